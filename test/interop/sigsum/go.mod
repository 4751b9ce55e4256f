module gossip-witness/test/interop/sigsum

go 1.22

require sigsum.org/sigsum-go v0.11.1

replace sigsum.org/sigsum-go => /usr/share/gocode/src/sigsum.org/sigsum-go
