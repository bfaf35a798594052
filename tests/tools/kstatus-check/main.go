// kstatus-check: what sigs.k8s.io/cli-utils' kstatus (status.Compute, the reading Flux's health
// checks and `kpt live status` use) makes of Kubernetes objects.
//
// stdin: one or more JSON objects (a stream, as `kubectl get -o json` prints one); stdout: one JSON
// line per object, {"status": "Current|InProgress|Failed|Terminating|Unknown", "message": "..."}.
// Exits non-zero only when an object cannot be read or Compute itself fails.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-check:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	decoder := json.NewDecoder(in)
	encoder := json.NewEncoder(out)
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading an object: %w", err)
		}
		// UnmarshalJSON keeps integers as int64, as the API machinery's decoder does: kstatus
		// reads metadata.generation and status.observedGeneration with NestedInt64.
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("decoding an object: %w", err)
		}
		res, err := status.Compute(obj)
		if err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if err := encoder.Encode(result{Status: res.Status.String(), Message: res.Message}); err != nil {
			return err
		}
	}
}
