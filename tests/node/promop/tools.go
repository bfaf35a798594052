//go:build tools

// Package tools pins prometheus-operator and its config reloader, built by ../build.sh. The upstream
// module replaces its nested pkg/apis/monitoring and pkg/client modules with directories that its
// published zip leaves out, so it cannot be `go install`ed; as a dependency of this module, it builds
// against those nested modules at the same version.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader"
)
