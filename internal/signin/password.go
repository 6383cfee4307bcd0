package signin

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatewatch/gatewatch/internal/config"
)

const (
	// maxPassword is far above bcrypt's 72-byte input; longer is hostile.
	maxPassword = 1024
	// verifySlots bounds concurrent bcrypt comparisons, so that a burst of
	// sign-in attempts from many addresses cannot take every core.
	verifySlots = 4
)

// Passwords checks passwords against the configured bcrypt hashes.
type Passwords struct {
	users map[string][]byte
	// dummy is compared for unknown users, so that a wrong name costs as
	// long as a wrong password and response times do not list the users.
	dummy []byte
	slots chan struct{}
}

// NewPasswords returns a check of users' passwords. The dummy hash that
// unknown names are compared with takes the first user's bcrypt cost.
func NewPasswords(users []config.User) (*Passwords, error) {
	v := &Passwords{users: map[string][]byte{}, slots: make(chan struct{}, verifySlots)}
	cost := bcrypt.DefaultCost
	for i, u := range users {
		v.users[u.Name] = []byte(u.PasswordHash)
		if i == 0 {
			if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil {
				cost = c
			}
		}
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(RandomToken()[:32]), cost)
	if err != nil {
		return nil, fmt.Errorf("signin: admin password check: %w", err)
	}
	v.dummy = dummy
	return v, nil
}

// Verify reports whether password is user's. It waits for a free slot (or
// ctx) first: bcrypt is deliberately slow.
func (v *Passwords) Verify(ctx context.Context, user, password string) bool {
	select {
	case v.slots <- struct{}{}:
		defer func() { <-v.slots }()
	case <-ctx.Done():
		return false
	}
	hash, known := v.users[user]
	if !known {
		hash = v.dummy
	}
	if len(password) > maxPassword {
		password = password[:maxPassword]
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	return known && err == nil
}
