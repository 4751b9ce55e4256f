// A signature type of c2sp.org/signed-note, identified by the first byte of the key material.
// Each type lives in one file of this folder and is listed in registry.ts.

export interface SignatureScheme {
  readonly type: number;
  readonly label: string;
  /**
   * Whether a signature of this type covers the whole note text, extension lines included.
   * ML-DSA-44 subtree/v1 (0x06) and RFC 6962 STH (0x05) sign a fixed struct instead, so anyone
   * can change a checkpoint's extension lines without breaking them.
   */
  readonly coversText: boolean;
  /** Checks the public key material (the bytes after the type byte); throws a message on error. */
  checkKey(key: Uint8Array): void;
  /** The 32-bit key ID for (name, key material); see signed-note §Key IDs. */
  keyId(name: string, key: Uint8Array): number;
  /** Verifies sig (the signature bytes after the 4-byte key ID) over the note text. Never throws. */
  verify(key: Uint8Array, name: string, text: Uint8Array, sig: Uint8Array): boolean;
}
