// The one small crypto interface the rest of the code uses. Two implementations:
// node.ts (node:crypto, fast, Node only) and noble.ts (portable, for browsers).
// Both must give Go's crypto/ed25519 verdict on every input, on every runtime: the rule is in
// ed25519-rules.ts (see test/crypto).

export interface CryptoBackend {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** SHA-256 of the concatenation of the parts (saves a copy on hot paths). */
  sha256Parts(...parts: Uint8Array[]): Uint8Array;
  /** Ed25519 public key (32 bytes) from a 32-byte RFC 8032 seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, msg: Uint8Array): Uint8Array;
  /** Ed25519 verification with Go's crypto/ed25519 rules. Never throws. */
  ed25519Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
  /** As ed25519Verify, possibly off the main thread (node: libuv thread pool). */
  ed25519VerifyAsync(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
  /** ECDSA with SHA-256 over msg; key as DER SubjectPublicKeyInfo; DER signature. Never throws. */
  ecdsaSha256Verify(spki: Uint8Array, msg: Uint8Array, derSig: Uint8Array): boolean;
  randomBytes(n: number): Uint8Array;
}
