package report

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// NewID makes a report id: a random (version 4) UUID in lower-case
// canonical form. It is written here rather than taken from a UUID
// library because the browser module carries it, and the library links
// MD5, SHA-1 and SQL support the module never uses.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("failed to make a report id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// ValidID reports whether id is a UUID in lower-case canonical form;
// with v4, also that it is a random (version 4) one.
func ValidID(id string, v4 bool) bool {
	if len(id) != 36 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return !v4 || id[14] == '4'
}
