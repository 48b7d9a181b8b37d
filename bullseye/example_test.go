package bullseye_test

import (
	"fmt"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

func ExampleKindOf() {
	for _, et := range bullseye.EventTypes() {
		kind, _ := bullseye.KindOf(et)
		fmt.Println(et, kind)
	}
	// Output:
	// visitor.identified identification
	// credits.allocated billing
	// credits.low billing
	// credits.exhausted billing
	// billing.period_closed billing
}
