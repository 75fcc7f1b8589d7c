package e2e

import (
	"os"
	"testing"

	"github.com/etcdgo/etcd/tests/framework"
)

func TestMain(m *testing.M) { os.Exit(framework.Main(m)) }
