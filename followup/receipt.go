package followup

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// SecretSize is the size of a receipt's secret: 128 bits.
const SecretSize = 16

// Secret is the reporter's follow-up secret, the whole of what the receipt
// code writes. Its Format methods never print it.
type Secret [SecretSize]byte

// Format prints a placeholder, so that a secret logged by mistake does not
// leak.
func (Secret) Format(f fmt.State, verb rune) { io.WriteString(f, "followup.Secret(…)") }

// The receipt code's shape: 26 data symbols (128 bits and two zero bits),
// two check symbols, written in seven groups of four.
const (
	dataSymbols  = 26
	codeSymbols  = dataSymbols + 2
	groupSymbols = 4
	// CodeLen is the length of a receipt code as written, dashes included.
	CodeLen = codeSymbols + codeSymbols/groupSymbols - 1
)

// alphabet is Crockford's base32: no I, L, O or U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Errors of a receipt code. Each is wrapped with the detail.
var (
	// ErrReceipt: the text is not a receipt code as docs/follow-up.md
	// writes one (a wrong length, a character outside the alphabet).
	ErrReceipt = errors.New("not a receipt code")
	// ErrMistyped: the code has the right shape but its check symbols do
	// not match: at least one character is wrong.
	ErrMistyped = errors.New("receipt code has a mistake")
)

// NewSecret reads a secret from rand, which is the system's (or the
// browser's) cryptographic random source.
func NewSecret(rand io.Reader) (Secret, error) {
	var s Secret
	if _, err := io.ReadFull(rand, s[:]); err != nil {
		return s, fmt.Errorf("failed to make a receipt secret: %w", err)
	}
	return s, nil
}

// Code returns the secret's receipt code: seven groups of four symbols,
// "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX".
func (s Secret) Code() string {
	var v [codeSymbols]byte
	// 128 bits, big-endian, five at a time; the last symbol takes the last
	// three bits and two zero bits.
	for i := range dataSymbols {
		var sym byte
		for b := range 5 {
			bit := i*5 + b
			sym <<= 1
			if bit < 8*SecretSize && s[bit/8]&(0x80>>(bit%8)) != 0 {
				sym |= 1
			}
		}
		v[i] = sym
	}
	v[26], v[27] = checkSymbols(v[:dataSymbols])
	var b strings.Builder
	for i, sym := range v {
		if i > 0 && i%groupSymbols == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[sym])
	}
	return b.String()
}

// ParseCode reads a receipt code as a person may type it: in upper or
// lower case, with or without dashes and spaces, O for 0 and I or L for 1.
func ParseCode(code string) (Secret, error) {
	var s Secret
	if len(code) > 4*CodeLen {
		return s, fmt.Errorf("%w: it is far longer than %d characters", ErrReceipt, CodeLen)
	}
	var v []byte
	for _, c := range strings.ToUpper(code) {
		switch c {
		case '-', ' ', '\t', '\n', '\r', '\u00a0':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		i := strings.IndexRune(alphabet, c)
		if i < 0 {
			return s, fmt.Errorf("%w: %q is not one of its characters (digits and the letters A to Z except I, L, O and U)", ErrReceipt, c)
		}
		v = append(v, byte(i))
	}
	if len(v) != codeSymbols {
		return s, fmt.Errorf("%w: it has %d characters, a receipt code has %d (seven groups of four)", ErrReceipt, len(v), codeSymbols)
	}
	if syndrome(v) != [2]byte{} || v[dataSymbols-1]&3 != 0 {
		return s, fmt.Errorf("%w: check each character against what you wrote down", ErrMistyped)
	}
	for i := range 8 * SecretSize {
		if v[i/5]&(0x10>>(i%5)) != 0 {
			s[i/8] |= 0x80 >> (i % 8)
		}
	}
	return s, nil
}

// The check symbols make the code a Reed–Solomon code over GF(32) with
// two check symbols: for the 28 symbols v, Σ v_i = 0 and Σ α^i·v_i = 0,
// where α is x in GF(2)[x]/(x^5+x^2+1). Any one or two wrong symbols,
// and so any two swapped ones, break one of the sums.

// gfMul multiplies in GF(32) modulo x^5+x^2+1.
func gfMul(a, b byte) byte {
	var p byte
	for range 5 {
		if b&1 != 0 {
			p ^= a
		}
		b >>= 1
		a <<= 1
		if a&0x20 != 0 {
			a ^= 0x25
		}
	}
	return p
}

// gfPow returns α^n.
func gfPow(n int) byte {
	p := byte(1)
	for range n % 31 {
		p = gfMul(p, 2)
	}
	return p
}

// gfInv returns the inverse of a non-zero a (a^30, since a^31 = 1).
func gfInv(a byte) byte {
	p := byte(1)
	for range 30 {
		p = gfMul(p, a)
	}
	return p
}

// syndrome returns the two sums over v.
func syndrome(v []byte) [2]byte {
	var s [2]byte
	a := byte(1) // α^i
	for _, sym := range v {
		s[0] ^= sym
		s[1] ^= gfMul(a, sym)
		a = gfMul(a, 2)
	}
	return s
}

// checkSymbols returns c26 and c27 that make both sums zero:
// c26 + c27 = A and α^26·c26 + α^27·c27 = B, where A and B are the sums
// over the data symbols.
func checkSymbols(data []byte) (byte, byte) {
	s := syndrome(data)
	a, b := s[0], s[1]
	c26 := gfMul(b^gfMul(gfPow(27), a), gfInv(gfPow(26)^gfPow(27)))
	return c26, a ^ c26
}

// MistakeGroup returns which of the seven groups (1 to 7) of a mistyped
// code holds the mistake, when the check symbols can tell: a code with one
// wrong character, or with a character outside the alphabet. It returns 0
// when they cannot (two or more wrong characters, a wrong length) and for
// a code ParseCode accepts.
func MistakeGroup(code string) int {
	var v []byte
	for _, c := range strings.ToUpper(code) {
		switch c {
		case '-', ' ', '\t', '\n', '\r', '\u00a0':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		i := strings.IndexRune(alphabet, c)
		if i < 0 && len(v) < codeSymbols {
			return len(v)/groupSymbols + 1
		}
		v = append(v, byte(i))
		if i < 0 || len(v) > codeSymbols {
			return 0 // a stray character past the code's end: a wrong length
		}
	}
	if len(v) != codeSymbols {
		return 0
	}
	s := syndrome(v)
	if s[0] == 0 || s[1] == 0 {
		return 0 // no mistake, or more than one
	}
	// One wrong symbol at i with error e gives s0 = e and s1 = α^i·e.
	ratio := gfMul(s[1], gfInv(s[0]))
	a := byte(1)
	for i := range codeSymbols {
		if a == ratio {
			return i/groupSymbols + 1
		}
		a = gfMul(a, 2)
	}
	return 0
}
