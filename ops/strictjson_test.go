package ops

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRefusesDuplicateKeysAndInvalidUTF8(t *testing.T) {
	for _, c := range []struct{ body, field, msg string }{
		{`{"type":"a","type":"b"}`, "type", `field "type" is given twice in one object; give it once`},
		{`{"type":"a","faults":[{"signature":"x"},{"share":1,"share":0.5}]}`, "faults[1].share", `field "share" is given twice in one object; give it once`},
		{`{"policy":{"delays":["1s"],"delays":["2s"]}}`, "policy.delays", `field "delays" is given twice`},
		{"{\"type\":\"a\xff\"}", "type", "type holds invalid UTF-8 (byte 10); send UTF-8 text"},
		{"{\"faults\":[{\"signature\":\"\xc3\"}]}", "faults[0].signature", "faults[0].signature holds invalid UTF-8"},
		{"{\"overrides\":{\"k\xff\":1}}", "overrides", "overrides holds invalid UTF-8"},
		{"{\"t\xffype\":1}", "", "the body holds invalid UTF-8"},
	} {
		var s Send
		err := Decode([]byte(c.body), &s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%q: %v (%+v), want field %q and %q", c.body, err, fe, c.field, c.msg)
		}
	}
	// Same keys in different objects, and valid UTF-8 everywhere, are fine.
	var s Send
	if err := Decode([]byte(`{"type":"visitor.identified","faults":[{"share":0.5},{"share":0.5}],"overrides":{"company":{"name":"Zoë"},"person":{"name":"x"}}}`), &s); err != nil {
		t.Errorf("valid body refused: %v", err)
	}
}
