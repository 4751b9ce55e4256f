// Command sigsuminterop wraps sigsum-go 0.11.1 (Debian package golang-sigsum-sigsum-go-dev,
// source under /usr/share/gocode/src/sigsum.org/sigsum-go) so that gossip-witness's TypeScript
// interop tests can check cosignature/v1 (c2sp.org/tlog-cosignature) against it.
//
// Usage: sigsuminterop SUBCOMMAND   (request JSON on stdin, response JSON on stdout)
//
// As in ../go/main.go, stdin may hold one request object or a JSON array of them (batch); the
// answer is one response or an array in the same order. Per-request failures are reported in
// the response; the exit status is non-zero only for unusable input.
//
// sigsum-go builds the cosigned message from origin, size and root only:
//
//	"cosignature/v1\ntime <timestamp>\n<origin>\n<size>\n<b64 root>\n"
//
// (types.TreeHead.toCosignedData), i.e. it only agrees with the spec for checkpoints WITHOUT
// extension lines. Use only such checkpoints with this helper.
//
// Numbers ("size", "timestamp") may be JSON numbers or decimal strings (for values > 2^53).
//
// Subcommands
//
//	cosig-verify
//	    stdin {
//	      "key_hex": "<64 hex: Ed25519 public key>"  |  "vkey": "<name>+<hex8>+<b64(0x04||pub32)>",
//	      "origin": "...", "size": N, "root_b64": "<32 bytes>",
//	      and either "line": "— <name> <b64(keyID||u64be ts||sig64)>"  (trailing "\n" optional)
//	             or   "timestamp": T, "sig_b64": "<64 bytes>"
//	    }
//	    With "line": checkpoint.CosignatureLinesFromASCII + Checkpoint.VerifyCosignatureByKey
//	      (the line's key ID must equal SHA-256(linename || 0x0A || 0x04 || pub)[0:4]).
//	    Without: types.Cosignature{T, sig}.Verify(pub, origin, &TreeHead{size, root}).
//	    A vkey must have type byte 0x04 and its key ID must match (checked here, sigsum-go has no
//	    vkey parser); with a vkey and a line, the line's key name must equal the vkey's name.
//	    -> {"ok": true, "timestamp": "T", "key_name": "...", "key_id": "<hex8>"} or {"ok": false, "error": "..."}
//
//	cosign
//	    stdin {"seed_b64": "<32-byte Ed25519 seed>", "key_name": "...", "origin": "...",
//	           "size": N, "root_b64": "...", "timestamp": T}
//	    Cosigns with checkpoint.Checkpoint.Cosign (crypto.NewEd25519Signer) and formats the line
//	    with CosignatureLine.ToASCII.
//	    -> {"line": "— name b64\n", "pub_hex": "...", "key_id": "<hex8>", "sig_b64": "<64 bytes>"}
//	       or {"error": "..."}
//
//	make-proof
//	    stdin {"submit_key_file": "...", "log_key_file": "...", "witness_key_files": ["..."],
//	           "message_b64": "...", "leaves": N, "index": I, "timestamp": T}
//	    Private key files as `sigsum-key generate` writes them (key.ReadPrivateKeyFile). Builds a
//	    tree of N leaves (merkle.Tree) whose leaf I is the message's (types.SignLeafMessage over
//	    SHA-256(message), as sigsum-submit does) and the others filler leaves, signs the tree head
//	    (TreeHead.Sign), cosigns it with each witness (TreeHead.Cosign), and writes the proof with
//	    proof.SigsumProof.ToASCII: exactly the file sigsum-submit saves and sigsum-verify reads.
//	    -> {"proof": "<the proof file>"} or {"error": "..."}
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"sigsum.org/sigsum-go/pkg/checkpoint"
	"sigsum.org/sigsum-go/pkg/crypto"
	"sigsum.org/sigsum-go/pkg/key"
	"sigsum.org/sigsum-go/pkg/merkle"
	"sigsum.org/sigsum-go/pkg/proof"
	"sigsum.org/sigsum-go/pkg/types"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: sigsuminterop cosig-verify|cosign|make-proof")
	}
	var handler func(json.RawMessage) any
	switch os.Args[1] {
	case "cosig-verify":
		handler = cosigVerify
	case "cosign":
		handler = cosign
	case "make-proof":
		handler = makeProof
	default:
		fail("unknown subcommand " + os.Args[1])
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	in = bytes.TrimSpace(in)
	if len(in) > 0 && in[0] == '[' {
		var reqs []json.RawMessage
		if err := json.Unmarshal(in, &reqs); err != nil {
			fail("bad JSON: " + err.Error())
		}
		out := make([]any, len(reqs))
		for i, r := range reqs {
			out[i] = handler(r)
		}
		emit(out)
		return
	}
	emit(handler(json.RawMessage(in)))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "sigsuminterop:", msg)
	os.Exit(2)
}

func emit(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fail(err.Error())
	}
}

func decode(raw json.RawMessage, v any) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail("bad request JSON: " + err.Error())
	}
}

// u64 accepts a JSON number or a decimal string.
type u64 struct {
	set bool
	v   uint64
}

func (u *u64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("bad unsigned integer %s", b)
	}
	u.set, u.v = true, v
	return nil
}

type failResp struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func failed(format string, args ...any) failResp {
	return failResp{Error: fmt.Sprintf(format, args...)}
}

func decodeFixed(s string, n int, what string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("request: %s must be %d bytes of base64", what, n)
	}
	return b, nil
}

func parseVkey(vkey string) (string, checkpoint.KeyId, crypto.PublicKey, error) {
	var pub crypto.PublicKey
	var id checkpoint.KeyId
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "", id, pub, fmt.Errorf("vkey: malformed")
	}
	idBytes, err := hex.DecodeString(parts[1])
	if err != nil || len(idBytes) != 4 {
		return "", id, pub, fmt.Errorf("vkey: malformed key ID")
	}
	copy(id[:], idBytes)
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 33 {
		return "", id, pub, fmt.Errorf("vkey: malformed key")
	}
	if key[0] != byte(checkpoint.SigTypeCosignature) {
		return "", id, pub, fmt.Errorf("vkey: type 0x%02x is not cosignature/v1", key[0])
	}
	copy(pub[:], key[1:])
	if want := checkpoint.NewWitnessKeyId(parts[0], &pub); want != id {
		return "", id, pub, fmt.Errorf("vkey: key ID %x does not match %x", id, want)
	}
	return parts[0], id, pub, nil
}

func cosigVerify(raw json.RawMessage) any {
	var req struct {
		KeyHex    string `json:"key_hex"`
		Vkey      string `json:"vkey"`
		Origin    string `json:"origin"`
		Size      u64    `json:"size"`
		RootB64   string `json:"root_b64"`
		Line      string `json:"line"`
		Timestamp u64    `json:"timestamp"`
		SigB64    string `json:"sig_b64"`
	}
	decode(raw, &req)
	var pub crypto.PublicKey
	vkeyName := ""
	switch {
	case req.Vkey != "":
		name, _, p, err := parseVkey(req.Vkey)
		if err != nil {
			return failed("%v", err)
		}
		pub, vkeyName = p, name
	case req.KeyHex != "":
		p, err := crypto.PublicKeyFromHex(req.KeyHex)
		if err != nil {
			return failed("request: key_hex: %v", err)
		}
		pub = p
	default:
		return failed("request: need key_hex or vkey")
	}
	if !req.Size.set {
		return failed("request: need size")
	}
	root, err := decodeFixed(req.RootB64, 32, "root_b64")
	if err != nil {
		return failed("%v", err)
	}
	th := types.TreeHead{Size: req.Size.v}
	copy(th.RootHash[:], root)

	if req.Line != "" {
		line := req.Line
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		lines, err := checkpoint.CosignatureLinesFromASCII(strings.NewReader(line))
		if err != nil {
			return failed("parse: %v", err)
		}
		if len(lines) != 1 {
			return failed("parse: %d cosignature lines of cosignature/v1 size", len(lines))
		}
		if vkeyName != "" && lines[0].KeyName != vkeyName {
			return failed("key name %q on the line, %q in the vkey", lines[0].KeyName, vkeyName)
		}
		cp := checkpoint.Checkpoint{
			SignedTreeHead: types.SignedTreeHead{TreeHead: th},
			Origin:         req.Origin,
		}
		cs, err := cp.VerifyCosignatureByKey(lines, &pub)
		if err != nil {
			return failed("%v", err)
		}
		return map[string]any{
			"ok": true, "timestamp": strconv.FormatUint(cs.Timestamp, 10),
			"key_name": lines[0].KeyName, "key_id": hex.EncodeToString(lines[0].KeyId[:]),
		}
	}

	if !req.Timestamp.set {
		return failed("request: need line, or timestamp and sig_b64")
	}
	sig, err := decodeFixed(req.SigB64, crypto.SignatureSize, "sig_b64")
	if err != nil {
		return failed("%v", err)
	}
	cs := types.Cosignature{Timestamp: req.Timestamp.v}
	copy(cs.Signature[:], sig)
	if !cs.Verify(&pub, req.Origin, &th) {
		return failed("cosignature not valid")
	}
	return map[string]any{"ok": true, "timestamp": strconv.FormatUint(cs.Timestamp, 10)}
}

func cosign(raw json.RawMessage) any {
	var req struct {
		SeedB64   string `json:"seed_b64"`
		KeyName   string `json:"key_name"`
		Origin    string `json:"origin"`
		Size      u64    `json:"size"`
		RootB64   string `json:"root_b64"`
		Timestamp u64    `json:"timestamp"`
	}
	decode(raw, &req)
	type errResp struct {
		Error string `json:"error"`
	}
	seed, err := decodeFixed(req.SeedB64, crypto.PrivateKeySize, "seed_b64")
	if err != nil {
		return errResp{err.Error()}
	}
	root, err := decodeFixed(req.RootB64, 32, "root_b64")
	if err != nil {
		return errResp{err.Error()}
	}
	var priv crypto.PrivateKey
	copy(priv[:], seed)
	signer := crypto.NewEd25519Signer(&priv)
	pub := signer.Public()
	cp := checkpoint.Checkpoint{Origin: req.Origin}
	cp.TreeHead.Size = req.Size.v
	copy(cp.TreeHead.RootHash[:], root)
	cs, err := cp.Cosign(signer, req.Timestamp.v)
	if err != nil {
		return errResp{err.Error()}
	}
	csl := checkpoint.CosignatureLine{
		KeyName:     req.KeyName,
		KeyId:       checkpoint.NewWitnessKeyId(req.KeyName, &pub),
		Cosignature: cs,
	}
	var buf bytes.Buffer
	if err := csl.ToASCII(&buf); err != nil {
		return errResp{err.Error()}
	}
	return map[string]string{
		"line":    buf.String(),
		"pub_hex": hex.EncodeToString(pub[:]),
		"key_id":  hex.EncodeToString(csl.KeyId[:]),
		"sig_b64": base64.StdEncoding.EncodeToString(cs.Signature[:]),
	}
}

type makeProofRequest struct {
	SubmitKeyFile   string   `json:"submit_key_file"`
	LogKeyFile      string   `json:"log_key_file"`
	WitnessKeyFiles []string `json:"witness_key_files"`
	MessageB64      string   `json:"message_b64"`
	Leaves          uint64   `json:"leaves"`
	Index           uint64   `json:"index"`
	Timestamp       uint64   `json:"timestamp"`
}

func makeProof(raw json.RawMessage) any {
	var r makeProofRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return map[string]any{"error": err.Error()}
	}
	res, err := makeProofFile(&r)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"proof": res}
}

func makeProofFile(r *makeProofRequest) (string, error) {
	msgBytes, err := base64.StdEncoding.DecodeString(r.MessageB64)
	if err != nil {
		return "", err
	}
	if r.Index >= r.Leaves {
		return "", fmt.Errorf("index %d not below leaves %d", r.Index, r.Leaves)
	}
	submitter, err := key.ReadPrivateKeyFile(r.SubmitKeyFile)
	if err != nil {
		return "", err
	}
	logSigner, err := key.ReadPrivateKeyFile(r.LogKeyFile)
	if err != nil {
		return "", err
	}
	msg := crypto.HashBytes(msgBytes)
	sig, err := types.SignLeafMessage(submitter, msg[:])
	if err != nil {
		return "", err
	}
	submitPub := submitter.Public()
	leaf := types.Leaf{Checksum: crypto.HashBytes(msg[:]), Signature: sig, KeyHash: crypto.HashBytes(submitPub[:])}
	tree := merkle.NewTree()
	for i := uint64(0); i < r.Leaves; i++ {
		var h crypto.Hash
		if i == r.Index {
			h = leaf.ToHash()
		} else {
			filler := types.Leaf{Checksum: crypto.HashBytes([]byte(fmt.Sprintf("filler %d", i))), KeyHash: crypto.HashBytes([]byte("filler key"))}
			h = filler.ToHash()
		}
		if !tree.AddLeafHash(&h) {
			return "", fmt.Errorf("duplicate leaf %d", i)
		}
	}
	th := types.TreeHead{Size: tree.Size(), RootHash: tree.GetRootHash()}
	sth, err := th.Sign(logSigner)
	if err != nil {
		return "", err
	}
	logPub := logSigner.Public()
	origin := types.SigsumCheckpointOrigin(&logPub)
	cosigs := make(map[crypto.Hash]types.Cosignature)
	for _, f := range r.WitnessKeyFiles {
		w, err := key.ReadPrivateKeyFile(f)
		if err != nil {
			return "", err
		}
		cs, err := th.Cosign(w, origin, r.Timestamp)
		if err != nil {
			return "", err
		}
		wp := w.Public()
		cosigs[crypto.HashBytes(wp[:])] = cs
	}
	path, err := tree.ProveInclusion(r.Index, tree.Size())
	if err != nil {
		return "", err
	}
	pr := proof.SigsumProof{
		LogKeyHash: crypto.HashBytes(logPub[:]),
		Leaf:       proof.NewShortLeaf(&leaf),
		TreeHead:   types.CosignedTreeHead{SignedTreeHead: sth, Cosignatures: cosigs},
		Inclusion:  types.InclusionProof{LeafIndex: r.Index, Path: path},
	}
	var buf bytes.Buffer
	if err := pr.ToASCII(&buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}
