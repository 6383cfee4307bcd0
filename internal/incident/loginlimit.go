package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// LoginLimit is one allowance of sign-in attempts: Burst at once, then one
// per Every, for whatever Key names (an address, a user at an address).
type LoginLimit struct {
	Key   string
	Every time.Duration
	Burst int
}

func loginKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// TakeLoginAttempt takes one attempt at now from every limit's allowance
// (GCRA), or, when any has none left, takes none and returns how long to
// wait. Instances sharing the store share the allowances; they survive
// reloads and restarts. Keys are stored hashed.
func (s *sqlStore) TakeLoginAttempt(ctx context.Context, now time.Time, limits []LoginLimit) (time.Duration, error) {
	var wait time.Duration
	err := s.b.write(ctx, func(c conn) error {
		wait = 0
		now := micro(now)
		if _, err := c.exec(ctx, `DELETE FROM login_limits WHERE tat <= $1`, now); err != nil {
			return err
		}
		tats := make([]int64, len(limits))
		for i, l := range limits {
			tat := now
			err := c.queryRow(ctx, `SELECT tat FROM login_limits WHERE key_hash = $1`, loginKey(l.Key)).Scan(&tat)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			tat = max(tat, now)
			every := l.Every.Microseconds()
			if over := tat - now - int64(l.Burst-1)*every; over > 0 {
				wait = max(wait, time.Duration(over)*time.Microsecond)
			}
			tats[i] = tat + every
		}
		if wait > 0 {
			return nil
		}
		for i, l := range limits {
			if _, err := c.exec(ctx, `INSERT INTO login_limits (key_hash, tat) VALUES ($1, $2)
				ON CONFLICT (key_hash) DO UPDATE SET tat = excluded.tat`, loginKey(l.Key), tats[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("incident: take login attempt: %w", err)
	}
	return wait, nil
}

// ReturnLoginAttempt gives back one attempt to every limit's allowance:
// a sign-in that succeeded costs nothing.
func (s *sqlStore) ReturnLoginAttempt(ctx context.Context, limits []LoginLimit) error {
	err := s.b.write(ctx, func(c conn) error {
		for _, l := range limits {
			if _, err := c.exec(ctx, `UPDATE login_limits SET tat = tat - $2 WHERE key_hash = $1`,
				loginKey(l.Key), l.Every.Microseconds()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("incident: return login attempt: %w", err)
	}
	return nil
}
