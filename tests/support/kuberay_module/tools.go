//go:build tools

// The KubeRay operator, pinned by this module (tests/support/kuberay.py builds it and ./clusterdns).
package tools

import (
	_ "github.com/ray-project/kuberay/ray-operator"
)
