// Command gointerop wraps golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog
// (x/mod 0.7.0, Debian package golang-golang-x-mod-dev) so that gossip-witness's
// TypeScript interop tests (test/interop/*.test.ts) can compare our library with Go's.
//
// Usage: gointerop SUBCOMMAND [ARG]   (request JSON on stdin, response JSON on stdout)
//
// Every subcommand that reads stdin accepts either one request object or a JSON array of
// request objects (a batch); the answer is then one response object or an array of the same
// length, in order. Failures of one request are reported inside its response (field "error"),
// never by the exit status: the exit status is non-zero only for unusable input (bad JSON,
// unknown subcommand), with a message on stderr.
//
// Byte strings: "..._b64" fields are standard base64 with padding; hashes (32 bytes) are base64.
// Wherever a note is given, "note" (a JSON string, UTF-8) or "note_b64" (raw bytes, so that
// invalid UTF-8 can be tested) may be used. Notes produced are given as both.
//
// Subcommands
//
//	note-keygen [NAME]
//	    With NAME: stdin is not read; output {"skey": "...", "vkey": "..."} (note.GenerateKey
//	    with crypto/rand).
//	    Without NAME: stdin {"name": "...", "seed_b64": "<32 bytes, optional>"}; with seed_b64 the
//	    key pair is deterministic (GenerateKey reading from those bytes). Output as above, or
//	    {"error": "..."}.
//
//	note-sign
//	    stdin {"skeys": ["PRIVATE+KEY+..."], "text": "...\n"}
//	       or {"skeys": [...], "note"|"note_b64": "<signed note>", "vkeys": ["..."]}
//	    With a note, it is first opened with note.Open against vkeys (may be empty): an
//	    UnverifiedNoteError is fine (its note is used); the existing signatures are kept (note.Sign
//	    drops those with the same name+key ID as a new signer). Then note.Sign(n, signers...).
//	    Output {"note": "...", "note_b64": "..."} or {"error": "<Go error string>"}.
//
//	note-open
//	    stdin {"vkeys": ["name+hash+key", ...], "note"|"note_b64": "..."}
//	    Output on success:
//	      {"ok": true, "text": "...", "verified": [SIG...], "unverified": [SIG...]}
//	      where SIG = {"name": "...", "key_id": "<8 lowercase hex>", "sig_b64": "<base64 as in the note>"}
//	    Output on failure:
//	      {"ok": false, "error": "<Go error string, exactly>", "kind": KIND,
//	       "unverified": [SIG...] (only for KIND "unverified")}
//	      KIND: "vkey" (note.NewVerifier failed on vkeys[i]; "vkey_index" is set),
//	            "malformed" (malformed note), "unverified" (note has no verifiable signatures),
//	            "invalid_signature" (invalid signature for key NAME+HASH), "other".
//
//	vkey-check
//	    stdin {"vkey": "..."} -> {"ok": true, "name": "...", "key_id": "<hex8>"} or
//	    {"ok": false, "error": "<Go error string>"} (note.NewVerifier).
//
//	skey-check
//	    stdin {"skey": "..."} -> {"ok": true, "name": "...", "key_id": "<hex8>"} or
//	    {"ok": false, "error": "..."} (note.NewSigner).
//
//	tree
//	    stdin {"seed": "<string>", "n": N, "consistency": [[m, n], ...], "inclusion": [[i, n], ...]}
//	    The tree has N leaves; leaf i's DATA (not its hash) is the 32 bytes
//	    SHA-256(utf8(seed) || u64be(i)), so its leaf hash is SHA-256(0x00 || DATA)
//	    (tlog.RecordHash). Hashes are stored with tlog.StoredHashes.
//	    Output {"leaf_hashes": [b64 x N],
//	            "roots": [b64 x (N+1)],          // roots[s] = tlog.TreeHash(s); roots[0] is Go's
//	                                              // 32 zero bytes, NOT SHA-256("")
//	            "consistency": [{"old": m, "new": n, "proof": [b64...]} | {"old","new","error"}],
//	                                              // tlog.ProveTree(n, m) (new size first in Go)
//	            "inclusion": [{"index": i, "size": n, "proof": [b64...]} | {..., "error"}]}
//	                                              // tlog.ProveRecord(n, i)
//	    Omit "leaf_hashes"/"roots" with "no_leaves": true / "no_roots": true.
//
//	check-tree
//	    stdin {"old_size": m, "new_size": n, "old_root": b64, "new_root": b64, "proof": [b64...]}
//	    -> {"ok": true} or {"ok": false, "error": "..."}  (tlog.CheckTree(proof, n, newRoot, m, oldRoot))
//	    A hash that does not decode to 32 bytes gives {"ok": false, "error": "bad hash ..."}.
//
//	parse-tree
//	    stdin {"text"|"text_b64": "<checkpoint text>"} -> {"ok": true, "size": "<decimal>", "root": b64}
//	    or {"ok": false, "error": "..."}  (tlog.ParseTree: sumdb checkpoints, origin line must be
//	    "go.sum database tree"; anything after the third line is ignored)
//
//	check-record
//	    stdin {"index": i, "size": n, "leaf_hash": b64, "root": b64, "proof": [b64...]}
//	    -> {"ok": true} or {"ok": false, "error": "..."}  (tlog.CheckRecord(proof, n, root, i, leafHash))
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: gointerop note-keygen|note-sign|note-open|vkey-check|skey-check|tree|check-tree|check-record|parse-tree")
	}
	cmd := os.Args[1]
	if cmd == "note-keygen" && len(os.Args) >= 3 {
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		emit(map[string]any{"skey": skey, "vkey": vkey})
		return
	}
	var handler func(json.RawMessage) any
	switch cmd {
	case "note-keygen":
		handler = keygen
	case "note-sign":
		handler = sign
	case "note-open":
		handler = open
	case "vkey-check":
		handler = vkeyCheck
	case "skey-check":
		handler = skeyCheck
	case "tree":
		handler = tree
	case "check-tree":
		handler = checkTree
	case "check-record":
		handler = checkRecord
	case "parse-tree":
		handler = parseTree
	default:
		fail("unknown subcommand " + cmd)
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
	fmt.Fprintln(os.Stderr, "gointerop:", msg)
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

type errResp struct {
	Error string `json:"error"`
}

// ---- notes ----

type noteInput struct {
	Note    *string `json:"note"`
	NoteB64 *string `json:"note_b64"`
}

func (n noteInput) bytes() ([]byte, error) {
	switch {
	case n.NoteB64 != nil:
		b, err := base64.StdEncoding.DecodeString(*n.NoteB64)
		if err != nil {
			return nil, fmt.Errorf("request: bad note_b64: %v", err)
		}
		return b, nil
	case n.Note != nil:
		return []byte(*n.Note), nil
	}
	return nil, nil
}

func keygen(raw json.RawMessage) any {
	var req struct {
		Name    string `json:"name"`
		SeedB64 string `json:"seed_b64"`
	}
	decode(raw, &req)
	var r io.Reader = rand.Reader
	if req.SeedB64 != "" {
		seed, err := base64.StdEncoding.DecodeString(req.SeedB64)
		if err != nil || len(seed) != 32 {
			return errResp{"request: seed_b64 must be 32 bytes"}
		}
		r = bytes.NewReader(seed)
	}
	skey, vkey, err := note.GenerateKey(r, req.Name)
	if err != nil {
		return errResp{err.Error()}
	}
	return map[string]string{"skey": skey, "vkey": vkey}
}

func sign(raw json.RawMessage) any {
	var req struct {
		noteInput
		Skeys []string `json:"skeys"`
		Vkeys []string `json:"vkeys"`
		Text  *string  `json:"text"`
	}
	decode(raw, &req)
	signers := make([]note.Signer, 0, len(req.Skeys))
	for _, s := range req.Skeys {
		signer, err := note.NewSigner(s)
		if err != nil {
			return errResp{err.Error()}
		}
		signers = append(signers, signer)
	}
	var n *note.Note
	msg, err := req.bytes()
	if err != nil {
		return errResp{err.Error()}
	}
	switch {
	case msg != nil:
		verifiers, _, err := verifierList(req.Vkeys)
		if err != nil {
			return errResp{err.Error()}
		}
		n, err = note.Open(msg, verifiers)
		if err != nil {
			var u *note.UnverifiedNoteError
			if !errors.As(err, &u) {
				return errResp{err.Error()}
			}
			n = u.Note
		}
	case req.Text != nil:
		n = &note.Note{Text: *req.Text}
	default:
		return errResp{"request: need text or note"}
	}
	out, err := note.Sign(n, signers...)
	if err != nil {
		return errResp{err.Error()}
	}
	return map[string]string{"note": string(out), "note_b64": base64.StdEncoding.EncodeToString(out)}
}

func verifierList(vkeys []string) (note.Verifiers, int, error) {
	vs := make([]note.Verifier, 0, len(vkeys))
	for i, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, i, err
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), -1, nil
}

type sigOut struct {
	Name   string `json:"name"`
	KeyID  string `json:"key_id"`
	SigB64 string `json:"sig_b64"`
}

func sigs(list []note.Signature) []sigOut {
	out := make([]sigOut, 0, len(list))
	for _, s := range list {
		out = append(out, sigOut{s.Name, fmt.Sprintf("%08x", s.Hash), s.Base64})
	}
	return out
}

type openResp struct {
	OK         bool     `json:"ok"`
	Text       *string  `json:"text,omitempty"`
	Verified   []sigOut `json:"verified,omitempty"`
	Unverified []sigOut `json:"unverified,omitempty"`
	Error      string   `json:"error,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	VkeyIndex  *int     `json:"vkey_index,omitempty"`
}

func open(raw json.RawMessage) any {
	var req struct {
		noteInput
		Vkeys []string `json:"vkeys"`
	}
	decode(raw, &req)
	verifiers, idx, err := verifierList(req.Vkeys)
	if err != nil {
		return openResp{Error: err.Error(), Kind: "vkey", VkeyIndex: &idx}
	}
	msg, err := req.bytes()
	if err != nil || msg == nil {
		return openResp{Error: "request: need note or note_b64", Kind: "other"}
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		resp := openResp{Error: err.Error(), Kind: "other"}
		var u *note.UnverifiedNoteError
		var inv *note.InvalidSignatureError
		switch {
		case errors.As(err, &u):
			resp.Kind = "unverified"
			resp.Unverified = sigs(u.Note.UnverifiedSigs)
			if resp.Unverified == nil {
				resp.Unverified = []sigOut{}
			}
		case errors.As(err, &inv):
			resp.Kind = "invalid_signature"
		case err.Error() == "malformed note":
			resp.Kind = "malformed"
		}
		return resp
	}
	return openResp{OK: true, Text: &n.Text, Verified: sigs(n.Sigs), Unverified: sigs(n.UnverifiedSigs)}
}

type keyCheckResp struct {
	OK    bool   `json:"ok"`
	Name  string `json:"name,omitempty"`
	KeyID string `json:"key_id,omitempty"`
	Error string `json:"error,omitempty"`
}

func vkeyCheck(raw json.RawMessage) any {
	var req struct {
		Vkey string `json:"vkey"`
	}
	decode(raw, &req)
	v, err := note.NewVerifier(req.Vkey)
	if err != nil {
		return keyCheckResp{Error: err.Error()}
	}
	return keyCheckResp{OK: true, Name: v.Name(), KeyID: fmt.Sprintf("%08x", v.KeyHash())}
}

func skeyCheck(raw json.RawMessage) any {
	var req struct {
		Skey string `json:"skey"`
	}
	decode(raw, &req)
	s, err := note.NewSigner(req.Skey)
	if err != nil {
		return keyCheckResp{Error: err.Error()}
	}
	return keyCheckResp{OK: true, Name: s.Name(), KeyID: fmt.Sprintf("%08x", s.KeyHash())}
}

// ---- trees ----

type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

func leafData(seed string, i int64) []byte {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], uint64(i))
	d := sha256.Sum256(append([]byte(seed), idx[:]...))
	return d[:]
}

func tree(raw json.RawMessage) any {
	var req struct {
		Seed        string     `json:"seed"`
		N           int64      `json:"n"`
		Consistency [][2]int64 `json:"consistency"`
		Inclusion   [][2]int64 `json:"inclusion"`
		NoLeaves    bool       `json:"no_leaves"`
		NoRoots     bool       `json:"no_roots"`
	}
	decode(raw, &req)
	if req.N < 0 || req.N > 1<<22 {
		return errResp{"request: n out of range"}
	}
	stored := memHashes{}
	leaves := make([]tlog.Hash, 0, req.N)
	roots := make([]string, 0, req.N+1)
	if !req.NoRoots {
		h, _ := tlog.TreeHash(0, &stored)
		roots = append(roots, b64(h))
	}
	for i := int64(0); i < req.N; i++ {
		data := leafData(req.Seed, i)
		hs, err := tlog.StoredHashes(i, data, &stored)
		if err != nil {
			return errResp{err.Error()}
		}
		stored = append(stored, hs...)
		leaves = append(leaves, tlog.RecordHash(data))
		if !req.NoRoots {
			h, err := tlog.TreeHash(i+1, &stored)
			if err != nil {
				return errResp{err.Error()}
			}
			roots = append(roots, b64(h))
		}
	}
	type cons struct {
		Old   int64    `json:"old"`
		New   int64    `json:"new"`
		Proof []string `json:"proof"`
		Error string   `json:"error,omitempty"`
	}
	type incl struct {
		Index int64    `json:"index"`
		Size  int64    `json:"size"`
		Proof []string `json:"proof"`
		Error string   `json:"error,omitempty"`
	}
	cs := make([]cons, 0, len(req.Consistency))
	for _, q := range req.Consistency {
		c := cons{Old: q[0], New: q[1]}
		if q[1] > req.N {
			c.Error = "request: size beyond tree"
		} else if p, err := tlog.ProveTree(q[1], q[0], &stored); err != nil {
			c.Error = err.Error()
		} else {
			c.Proof = b64s(p)
		}
		cs = append(cs, c)
	}
	is := make([]incl, 0, len(req.Inclusion))
	for _, q := range req.Inclusion {
		c := incl{Index: q[0], Size: q[1]}
		if q[1] > req.N {
			c.Error = "request: size beyond tree"
		} else if p, err := tlog.ProveRecord(q[1], q[0], &stored); err != nil {
			c.Error = err.Error()
		} else {
			c.Proof = b64s(p)
		}
		is = append(is, c)
	}
	out := map[string]any{"consistency": cs, "inclusion": is}
	if !req.NoLeaves {
		out["leaf_hashes"] = b64s(leaves)
	}
	if !req.NoRoots {
		out["roots"] = roots
	}
	return out
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(ss))
	for _, s := range ss {
		h, err := parseHash(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

type okResp struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func result(err error) okResp {
	if err != nil {
		return okResp{Error: err.Error()}
	}
	return okResp{OK: true}
}

func checkTree(raw json.RawMessage) any {
	var req struct {
		OldSize int64    `json:"old_size"`
		NewSize int64    `json:"new_size"`
		OldRoot string   `json:"old_root"`
		NewRoot string   `json:"new_root"`
		Proof   []string `json:"proof"`
	}
	decode(raw, &req)
	oldRoot, err1 := parseHash(req.OldRoot)
	newRoot, err2 := parseHash(req.NewRoot)
	proof, err3 := parseHashes(req.Proof)
	if err := firstErr(err1, err2, err3); err != nil {
		return result(err)
	}
	return result(tlog.CheckTree(proof, req.NewSize, newRoot, req.OldSize, oldRoot))
}

func checkRecord(raw json.RawMessage) any {
	var req struct {
		Index    int64    `json:"index"`
		Size     int64    `json:"size"`
		LeafHash string   `json:"leaf_hash"`
		Root     string   `json:"root"`
		Proof    []string `json:"proof"`
	}
	decode(raw, &req)
	leaf, err1 := parseHash(req.LeafHash)
	root, err2 := parseHash(req.Root)
	proof, err3 := parseHashes(req.Proof)
	if err := firstErr(err1, err2, err3); err != nil {
		return result(err)
	}
	return result(tlog.CheckRecord(proof, req.Size, root, req.Index, leaf))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func parseTree(raw json.RawMessage) any {
	var req struct {
		Text    *string `json:"text"`
		TextB64 *string `json:"text_b64"`
	}
	decode(raw, &req)
	var text []byte
	switch {
	case req.TextB64 != nil:
		b, err := base64.StdEncoding.DecodeString(*req.TextB64)
		if err != nil {
			return okResp{Error: "request: bad text_b64"}
		}
		text = b
	case req.Text != nil:
		text = []byte(*req.Text)
	}
	t, err := tlog.ParseTree(text)
	if err != nil {
		return okResp{Error: err.Error()}
	}
	return map[string]any{"ok": true, "size": fmt.Sprint(t.N), "root": b64(t.Hash)}
}
