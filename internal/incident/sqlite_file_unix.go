//go:build unix

package incident

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// writable asks the kernel whether path may be written, as the process
// is: access(2) answers EROFS on a read-only file system and EPERM for an
// immutable file even to root, which permission bits do not stop. A file
// that does not exist (a WAL not yet created) is no fault.
func writable(path string) error {
	err := syscall.Access(path, 2) // W_OK
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return &os.PathError{Op: "access", Path: path, Err: err}
}
