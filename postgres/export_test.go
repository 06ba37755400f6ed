package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool exposes the Store's connection pool to the tests of package
// postgres_test.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// The hot-path queries, for the tests that check their plans.
const (
	UserByIDSQL       = userByIDSQL
	UserByEmailSQL    = userByEmailSQL
	UserByUsernameSQL = userByUsernameSQL
	FindSessionSQL    = findSessionSQL
	APITokenByHashSQL = apiTokenByHashSQL
)
