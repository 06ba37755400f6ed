package main

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want Spread
	}{
		{name: "none", in: nil, want: Spread{}},
		{name: "one", in: []float64{7}, want: Spread{Median: 7, Min: 7, Max: 7, Passes: []float64{7}}},
		{name: "odd, unsorted", in: []float64{39500, 38000, 40100}, want: Spread{Median: 39500, Min: 38000, Max: 40100, Passes: []float64{39500, 38000, 40100}}},
		{name: "even: mean of the middle two", in: []float64{4, 1, 3, 2}, want: Spread{Median: 2.5, Min: 1, Max: 4, Passes: []float64{4, 1, 3, 2}}},
		{name: "ties", in: []float64{2, 2, 9}, want: Spread{Median: 2, Min: 2, Max: 9, Passes: []float64{2, 2, 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := spreadOf(tc.in)
			if got.Median != tc.want.Median || got.Min != tc.want.Min || got.Max != tc.want.Max || !slices.Equal(got.Passes, tc.want.Passes) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	in := []float64{3, 1, 2}
	spreadOf(in)
	if !slices.Equal(in, []float64{3, 1, 2}) {
		t.Errorf("spreadOf reordered its argument: %v", in)
	}
}

func TestRatios(t *testing.T) {
	for _, tc := range []struct {
		name     string
		num, den []float64
		want     []float64 // NaN where the denominator is 0
	}{
		{name: "pass by pass", num: []float64{10200, 9000, 11000}, den: []float64{39500, 36000, 44000}, want: []float64{10200.0 / 39500, 0.25, 0.25}},
		{name: "zero denominator", num: []float64{1, 2}, den: []float64{0, 4}, want: []float64{math.NaN(), 0.5}},
		{name: "shorter numerator", num: []float64{1}, den: []float64{2, 4}, want: []float64{0.5}},
		{name: "shorter denominator", num: []float64{1, 2}, den: []float64{2}, want: []float64{0.5}},
		{name: "empty", num: nil, den: nil, want: []float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ratios(tc.num, tc.den)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if math.IsNaN(tc.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-tc.want[i]) > 1e-12) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestMeanPerPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   [][]float64
		want []float64
	}{
		{name: "none", in: nil, want: nil},
		{name: "one instance", in: [][]float64{{1, 2}}, want: []float64{1, 2}},
		{name: "two instances", in: [][]float64{{4000, 5000, 6000}, {3000, 5000, 7000}}, want: []float64{3500, 5000, 6500}},
		{name: "uneven lengths: the passes all have", in: [][]float64{{1, 2, 3}, {3, 4}}, want: []float64{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := meanPerPass(tc.in...); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {7.4, "7"}, {999.5, "1,000"}, {39500, "39,500"}, {1234567.8, "1,234,568"},
		{-10200, "-10,200"}, {math.NaN(), "NaN"}, {math.Inf(1), "+Inf"},
	} {
		if got := thousands(tc.in); got != tc.want {
			t.Errorf("thousands(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRatioString(t *testing.T) {
	for _, tc := range []struct {
		v, goal float64
		digits  int
		want    string
	}{
		{0.2582, 0.6, 3, "0.258"},
		{0.8996, 0.9, 3, "0.8996"},   // "0.900" would hide that 0.9 is not met
		{0.89996, 0.9, 2, "0.89996"}, // as many digits as it takes
		{0.9004, 0.9, 3, "0.900"},    // met: rounding down to the goal is fine
		{0.8996, 0, 3, "0.900"},      // no goal
		{0.5999999999, 0.6, 2, "0.600000"},
	} {
		if got := ratioString(tc.v, tc.goal, tc.digits); got != tc.want {
			t.Errorf("ratioString(%v, %v, %d) = %q, want %q", tc.v, tc.goal, tc.digits, got, tc.want)
		}
	}
}

func TestCPUPerRequest(t *testing.T) {
	for _, tc := range []struct {
		cpu     time.Duration
		answers int
		want    float64
	}{
		{time.Second, 10000, 100},
		{1500 * time.Millisecond, 30000, 50},
		{time.Second, 0, 0},
	} {
		if got := cpuPerRequest(tc.cpu, tc.answers); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("cpuPerRequest(%v, %d) = %v, want %v", tc.cpu, tc.answers, got, tc.want)
		}
	}
}

// windows makes one window per rate, a second long each.
func windows(rates ...float64) []Window {
	var ws []Window
	for _, r := range rates {
		ws = append(ws, Window{Requests: int(r), OK: int(r), Seconds: 1, PerSec: r, P50ms: 1, P99ms: 4})
	}
	return ws
}

func TestSummarize(t *testing.T) {
	one := func(key string, cpuUs []float64, rates ...float64) *compareSystem {
		return &compareSystem{key: key, name: key, targets: []*target{{}}, windows: [][]Window{windows(rates...)}, cpuUs: cpuUs}
	}
	for _, tc := range []struct {
		name    string
		systems []*compareSystem
		ratios  map[string]Spread // by key; only Median, Min, Max compared
		met     map[string]bool   // by ratio name
	}{
		{
			name: "the review's figures: SQLite misses both goals",
			systems: []*compareSystem{
				one("plain", []float64{50, 50, 50}, 39500, 38000, 40100),
				one("nolatch", []float64{100, 100, 100}, 12000, 11000, 12500),
				one("latch", []float64{200, 200, 200}, 10200, 9500, 10400),
			},
			ratios: map[string]Spread{
				"latch/plain":       {Median: 10200.0 / 39500, Min: 9500.0 / 38000, Max: 10400.0 / 40100},
				"latch/nolatch":     {Median: 10200.0 / 12000, Min: 10400.0 / 12500, Max: 9500.0 / 11000},
				"nolatch/plain":     {Median: 12000.0 / 39500, Min: 11000.0 / 38000, Max: 12500.0 / 40100},
				"cpu:plain/latch":   {Median: 0.25, Min: 0.25, Max: 0.25},
				"cpu:nolatch/latch": {Median: 0.5, Min: 0.5, Max: 0.5},
			},
			met: map[string]bool{"latch ÷ plain Go page (SQLite)": false, "latch ÷ same page without latch (SQLite)": false},
		},
		{
			name: "goals met, PostgreSQL pair per instance",
			systems: []*compareSystem{
				one("plain", nil, 10000, 10000, 10000),
				one("nolatch", nil, 7000, 7000, 7000),
				one("latch", nil, 6500, 6600, 6400),
				{key: "pg", name: "pg", targets: []*target{{}, {}}, windows: [][]Window{windows(5000, 6000, 5500), windows(5200, 5800, 5300)}},
			},
			ratios: map[string]Spread{
				"latch/plain":   {Median: 0.65, Min: 0.64, Max: 0.66},
				"latch/nolatch": {Median: 6500.0 / 7000, Min: 6400.0 / 7000, Max: 6600.0 / 7000},
				"pg/plain":      {Median: 0.54, Min: 0.51, Max: 0.59},
			},
			met: map[string]bool{
				"latch ÷ plain Go page (SQLite)":                  true,
				"latch ÷ same page without latch (SQLite)":        true,
				"PostgreSQL + Redis per instance ÷ plain Go page": true,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &CompareResult{}
			summarize(res, tc.systems)
			got := map[string]RatioResult{}
			for _, r := range res.Ratios {
				got[r.Key] = r
			}
			for key, want := range tc.ratios {
				r, ok := got[key]
				if !ok {
					t.Errorf("no ratio %s", key)
					continue
				}
				near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
				if !near(r.Median, want.Median) || !near(r.Min, want.Min) || !near(r.Max, want.Max) {
					t.Errorf("%s: median %v min %v max %v, want %v %v %v", key, r.Median, r.Min, r.Max, want.Median, want.Min, want.Max)
				}
			}
			if len(res.Targets) != len(tc.met) {
				t.Errorf("targets %+v, want %d", res.Targets, len(tc.met))
			}
			for _, c := range res.Targets {
				if want, ok := tc.met[c.Figure]; !ok || c.Met != want {
					t.Errorf("target %q met=%v, want %v (known: %v)", c.Figure, c.Met, want, ok)
				}
			}
			md := markdown(res)
			for _, want := range []string{"| plain Go page, same data in a map", "| latch, SQLite |", "latch ÷ plain Go page **"} {
				if !strings.Contains(md, want) {
					t.Errorf("markdown lacks %q:\n%s", want, md)
				}
			}
			if _, pg := got["pg/plain"]; pg != strings.Contains(md, "per instance of two") {
				t.Errorf("markdown and the PostgreSQL pair disagree:\n%s", md)
			}
		})
	}
}

func TestSummarizePairRows(t *testing.T) {
	res := &CompareResult{}
	summarize(res, []*compareSystem{
		{key: "plain", name: "plain", targets: []*target{{}}, windows: [][]Window{windows(100, 100)}},
		{key: "pg", name: "pg", targets: []*target{{}, {}}, windows: [][]Window{windows(40, 60), windows(50, 70)}, cpuUs: []float64{300, 310}},
	})
	var keys []string
	for _, s := range res.Systems {
		keys = append(keys, s.Key)
	}
	if want := []string{"plain", "pg-a", "pg-b", "pg"}; !slices.Equal(keys, want) {
		t.Fatalf("systems %v, want %v", keys, want)
	}
	pg := res.Systems[3]
	if !slices.Equal(pg.PerSec.Passes, []float64{45, 65}) || pg.PerSec.Median != 55 {
		t.Errorf("per instance %+v, want passes 45 65, median 55", pg.PerSec)
	}
	if pg.ServerCPUus.Median != 305 {
		t.Errorf("server CPU per request %+v, want median 305", pg.ServerCPUus)
	}
}

func TestCompareCommand(t *testing.T) {
	defer func(q float64, w time.Duration) { quietCores, quietWait = q, w }(quietCores, quietWait)
	quietCores, quietWait = 0.25, 90*time.Second
	for _, tc := range []struct {
		o    options
		want string
	}{
		{options{rounds: 3, duration: 18 * time.Second, connections: 32, users: 20, wrkThreads: 2}, "go run ./cmd/latch-load -compare"},
		{options{rounds: 3, duration: 3 * time.Second, connections: 32, users: 20, wrk: true, wrkThreads: 2,
			postgres: "postgres://u:secret@h/db", redis: "redis://:secret@h/0"},
			"go run ./cmd/latch-load -compare -wrk -postgres URL -redis URL -duration 3s"},
		{options{rounds: 5, duration: 30 * time.Second, connections: 64, users: 20, wrk: true, wrkThreads: 4, postgres: "postgres://h/db"},
			"go run ./cmd/latch-load -compare -wrk -wrk-threads 4 -rounds 5 -connections 64"},
	} {
		if got := compareCommand(tc.o); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		if strings.Contains(compareCommand(tc.o), "secret") {
			t.Errorf("%s shows a password", compareCommand(tc.o))
		}
	}
}
