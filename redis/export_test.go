package redis

import goredis "github.com/redis/go-redis/v9"

// Client exposes the Store's client to the tests of package redis_test.
func (s *Store) Client() *goredis.Client { return s.client }
