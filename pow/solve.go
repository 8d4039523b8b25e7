package pow

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// PauseEvery is how many numbers [Solve] tries between calls to pause:
// about 2 ms of work in a browser's WebAssembly, 0.2 ms natively.
const PauseEvery = 1024

// Solve finds the secret number of a version 1 challenge c by trying 0,
// 1, … maxnumber, as ALTCHA's version 1 widget does. Every [PauseEvery]
// numbers it calls pause, if not nil: a client on a page yields to the
// browser's event loop there; an error from pause stops the search and is
// returned. (This project's widget speaks version 2: [SolveV2].)
func Solve(c *Challenge, pause func() error) (*Solution, error) {
	if _, err := ParseChallenge(c); err != nil {
		return nil, fmt.Errorf("failed to solve challenge: %w", err)
	}
	var want [32]byte
	hex.Decode(want[:], []byte(c.Challenge))
	buf := make([]byte, 0, len(c.Salt)+20)
	buf = append(buf, c.Salt...)
	for n := int64(0); n <= c.MaxNumber; n++ {
		if n%PauseEvery == 0 && n > 0 && pause != nil {
			if err := pause(); err != nil {
				return nil, fmt.Errorf("failed to solve challenge: %w", err)
			}
		}
		if sum := sha256.Sum256(strconv.AppendInt(buf[:len(c.Salt)], n, 10)); sum == want {
			return &Solution{Algorithm: c.Algorithm, Challenge: c.Challenge, Number: n, Salt: c.Salt, Signature: c.Signature}, nil
		}
	}
	return nil, fmt.Errorf("failed to solve challenge: %w: no number up to %d", ErrUnsolved, c.MaxNumber)
}
