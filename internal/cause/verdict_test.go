package cause

import (
	"os"
	"regexp"
	"testing"
)

func TestDecideScenarios(t *testing.T) {
	for _, tc := range []struct {
		name   string
		e      Evidence
		want   Verdict
		reload bool
		row    int
	}{
		{"cookies too large", Evidence{Own: HeaderTooBig.Kind(), Probe: ProbeUp, Fresh: true}, VerdictJustYou, false, 1},
		{"maintenance over and a fresh check passes", Evidence{Own: Maintenance.Kind(), Probe: ProbeUp, Fresh: true, Over: true}, VerdictRecovering, true, 2},
		{"maintenance not over", Evidence{Own: Maintenance.Kind(), Probe: ProbeUp, Fresh: true}, VerdictMaintenance, false, 3},
		{"maintenance over but no check since", Evidence{Own: Maintenance.Kind(), Probe: ProbeUp, Over: true}, VerdictMaintenance, false, 3},
		{"app 500 while the health check passes", Evidence{Own: HTTP5xx.Kind(), Probe: ProbeUp, Fresh: true}, VerdictAppError, false, 4},
		{"app 500 with many affected", Evidence{Own: HTTP5xx.Kind(), Probe: ProbeUp, Fresh: true, Many: true}, VerdictAppError, false, 4},
		{"process died mid-answer, check down", Evidence{Own: PrematureClose.Kind(), Probe: ProbeDown}, VerdictAppError, false, 4},
		{"refused and the check agrees", Evidence{Own: Refused.Kind(), Probe: ProbeDown, Fresh: true}, VerdictDown, false, 5},
		{"504 and the check cannot connect", Evidence{Own: ReadTimeout.Kind(), Probe: ProbeDown, Fresh: true}, VerdictDown, false, 5},
		{"no own evidence, check down", Evidence{Own: Unknown.Kind(), Probe: ProbeDown}, VerdictDown, false, 5},
		{"back after an outage", Evidence{Own: Refused.Kind(), Probe: ProbeUp, Fresh: true, Failed: true}, VerdictRecovering, true, 6},
		{"a 504 during an outage that ended", Evidence{Own: ReadTimeout.Kind(), Probe: ProbeUp, Fresh: true, Failed: true}, VerdictRecovering, true, 6},
		{"refused once, fresh check passes", Evidence{Own: Refused.Kind(), Probe: ProbeUp, Fresh: true}, VerdictRecovering, true, 7},
		{"slow page, health check fine", Evidence{Own: ReadTimeout.Kind(), Probe: ProbeUp, Fresh: true}, VerdictOverloaded, false, 8},
		{"no own evidence, fresh check passes, few", Evidence{Own: Unknown.Kind(), Probe: ProbeUp, Fresh: true}, VerdictNotEveryone, false, 9},
		{"no own evidence, fresh check passes, many", Evidence{Own: Unknown.Kind(), Probe: ProbeUp, Fresh: true, Many: true}, VerdictDown, false, 10},
		{"refused, stale check, many affected", Evidence{Own: Refused.Kind(), Probe: ProbeUp, Many: true}, VerdictDown, false, 10},
		{"504 and no check at all", Evidence{Own: ReadTimeout.Kind(), Probe: ProbeNone}, VerdictOverloaded, false, 11},
		{"first seconds of an outage: cache says up", Evidence{Own: Refused.Kind(), Probe: ProbeUp, Pending: true}, VerdictChecking, false, 12},
		{"never checked, check pending", Evidence{Own: Refused.Kind(), Probe: ProbeNone, Pending: true}, VerdictChecking, false, 13},
		{"refused, nothing to check", Evidence{Own: Refused.Kind(), Probe: ProbeNone}, VerdictUnknown, false, 14},
		{"nothing at all", Evidence{Own: Unknown.Kind(), Probe: ProbeNone}, VerdictUnknown, false, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.e)
			if d.Verdict != tc.want || d.Reload != tc.reload || d.Row != tc.row {
				t.Errorf("Decide(%+v) = %+v, want verdict %s reload %v row %d", tc.e, d, tc.want, tc.reload, tc.row)
			}
		})
	}
}

// TestDecideEveryInput enumerates every combination of evidence: each
// matches a row, every row is reachable, and the verdict's promises hold.
func TestDecideEveryInput(t *testing.T) {
	hit := make([]bool, len(table)+1)
	bools := []bool{false, true}
	for _, c := range Classes() {
		own := c.Kind()
		for _, pr := range []ProbeState{ProbeNone, ProbeUp, ProbeDown} {
			for _, fresh := range bools {
				for _, failed := range bools {
					for _, pending := range bools {
						for _, many := range bools {
							for _, over := range bools {
								e := Evidence{Own: own, Probe: pr, Fresh: fresh, Failed: failed, Pending: pending, Many: many, Over: over}
								d := Decide(e)
								if d.Row == 0 {
									t.Fatalf("no row matches %+v", e)
								}
								hit[d.Row] = true
								checkPromises(t, e, d)
							}
						}
					}
				}
			}
		}
	}
	for i := 1; i <= len(table); i++ {
		if !hit[i] {
			t.Errorf("row %d is never reached", i)
		}
	}
}

func checkPromises(t *testing.T, e Evidence, d Decision) {
	t.Helper()
	k := e.Own
	switch {
	case d.Reload && k == KindAppError:
		t.Errorf("%+v: reloads into an application error", e)
	case d.Reload && !(e.Probe == ProbeUp && e.Fresh):
		t.Errorf("%+v: reloads without a passing check made after the failure", e)
	case d.Verdict == VerdictJustYou && k != KindClient:
		t.Errorf("%+v: says just you without evidence against the request", e)
	case d.Verdict == VerdictDown && !(e.Probe == ProbeDown || e.Many):
		t.Errorf("%+v: says down for everyone without the check or the crowd", e)
	case (d.Verdict == VerdictRecovering || d.Verdict == VerdictNotEveryone) && !e.Fresh:
		t.Errorf("%+v: says %s on a check older than the failure", e, d.Verdict)
	case k == KindAppError && d.Verdict != VerdictAppError:
		t.Errorf("%+v: an application error is shown as %s", e, d.Verdict)
	}
}

// TestDocListsEveryRow keeps docs/verdict.md in step with the table.
func TestDocListsEveryRow(t *testing.T) {
	b, err := os.ReadFile("../../docs/verdict.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllSubmatch(b, -1)
	if len(rows) != len(table) {
		t.Fatalf("docs/verdict.md has %d rows, the table %d", len(rows), len(table))
	}
	for i, r := range rows {
		if string(r[1]) != itoa(i+1) {
			t.Errorf("docs row %d is numbered %s", i+1, r[1])
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
