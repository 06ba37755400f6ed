package sqlite

import "database/sql"

// Pools exposes the Store's connection pools to the tests of package
// sqlite_test.
func (s *Store) Pools() (write, read *sql.DB) { return s.write, s.read }
