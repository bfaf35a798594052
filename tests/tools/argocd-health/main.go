// argocd-health: runs an Argo CD resource health script (health.lua) on Kubernetes objects as Argo
// CD's application controller does (util/lua/lua.go in argoproj/argo-cd), with the interpreter it
// uses, github.com/yuin/gopher-lua:
//
//   - a state without the standard libraries (a script in argocd-cm runs so unless it sets
//     useOpenLibs), then only package, base and table opened: no string library;
//   - the object as the global `obj`: maps as tables, lists as arrays, numbers as Lua numbers;
//   - the script's value is a table whose `status` must be one of Argo CD's health codes (else
//     Argo CD shows Unknown, "Lua returned an invalid health status") and `message` is shown beside it;
//   - a one-second budget per call.
//
// Argo CD also opens its own reduced `os` library; this runner leaves `os` out, so a script that
// needs it fails here rather than passing with something Argo CD would not give it.
//
// Usage: argocd-health SCRIPT < objects.json; stdin: a stream of JSON objects; stdout: one JSON
// line per object, {"status": "...", "message": "..."}. Exits non-zero when the script fails.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

var healthCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health SCRIPT < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = run(string(script), os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		os.Exit(1)
	}
}

func run(script string, in io.Reader, out io.Writer) error {
	decoder := json.NewDecoder(in)
	encoder := json.NewEncoder(out)
	for {
		var obj map[string]any
		if err := decoder.Decode(&obj); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading an object: %w", err)
		}
		res, err := health(script, obj)
		if err != nil {
			return err
		}
		if err := encoder.Encode(res); err != nil {
			return err
		}
	}
}

func health(script string, obj map[string]any) (result, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return result{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", toLua(state, obj))
	if err := state.DoString(script); err != nil {
		return result{}, fmt.Errorf("the script failed: %w", err)
	}
	table, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return result{}, fmt.Errorf("expect table output from Lua script, not %s", state.Get(-1).Type())
	}
	status, err := field(table, "status")
	if err != nil {
		return result{}, err
	}
	message, err := field(table, "message")
	if err != nil {
		return result{}, err
	}
	res := result{Status: status, Message: message}
	if !healthCodes[res.Status] {
		return result{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return res, nil
}

// field reads a string field of the returned table; Argo CD encodes the table as JSON into its
// HealthStatus, where a field of another type fails the decoding.
func field(table *lua.LTable, name string) (string, error) {
	value := table.RawGetString(name)
	if value == lua.LNil {
		return "", nil
	}
	if s, ok := value.(lua.LString); ok {
		return string(s), nil
	}
	return "", fmt.Errorf("the script's %s is a %s, not a string", name, value.Type())
}

// toLua converts a decoded JSON value the way Argo CD hands objects to its scripts.
func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		array := state.CreateTable(len(v), 0)
		for _, item := range v {
			array.Append(toLua(state, item))
		}
		return array
	case map[string]any:
		table := state.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(state, item))
		}
		return table
	}
	return lua.LNil
}
