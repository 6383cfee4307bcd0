package incident

import (
	"fmt"
	"os"
)

// dbFile is the SQLite database file as it was when opened.
type dbFile struct {
	path string
	fi   os.FileInfo
}

func openedFile(path string) (dbFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return dbFile{}, err
	}
	return dbFile{path: path, fi: fi}, nil
}

// check reports the file gone (deleted with its directory, or replaced:
// the open descriptor then writes to an unlinked inode, lost on restart)
// or not writable. The store is not reopened: a fresh file would hide the
// history the operator has just lost behind an empty dashboard, and
// writing on into the orphan loses new events silently; failing
// readiness makes someone look.
func (f dbFile) check() error {
	fi, err := os.Stat(f.path)
	switch {
	case err != nil:
		return fmt.Errorf("incident: the database file is gone (%v); events written now are lost on restart", err)
	case !os.SameFile(fi, f.fi):
		return fmt.Errorf("incident: the database file %s was replaced by another file; events written now are lost on restart", f.path)
	}
	for _, p := range []string{f.path, f.path + "-wal"} {
		if err := writable(p); err != nil {
			return fmt.Errorf("incident: the database file is not writable: %w", err)
		}
	}
	return nil
}
