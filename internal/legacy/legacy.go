// Package legacy holds what the storage backends share when they convert
// the tables of an earlier latch to today's layout.
package legacy

import (
	"strconv"

	"github.com/latchgo/latch/account"
)

// User is a converted user: its id and username.
type User struct {
	ID       int64
	Username string
}

// Skeletons returns the username skeleton of each user, in order. Users
// who signed up before skeletons were checked may share one: each later
// user of a skeleton gets it with "#" and its id appended, so that the
// column can be unique and every user keeps the account. Such a suffix
// can never be a new user's skeleton, since usernames hold no '#'. users
// should be in the order they signed up, so the first keeps the plain
// skeleton.
func Skeletons(users []User) []string {
	out := make([]string, len(users))
	seen := make(map[string]bool, len(users))
	for i, u := range users {
		k := account.UsernameSkeleton(u.Username)
		if seen[k] {
			k += "#" + strconv.FormatInt(u.ID, 10)
		}
		seen[k] = true
		out[i] = k
	}
	return out
}
