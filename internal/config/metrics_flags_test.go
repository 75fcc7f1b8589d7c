package config

import "testing"

func TestMetricsFlags(t *testing.T) {
	cfg, err := Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics != "basic" || len(cfg.ListenMetricsURLs) != 0 {
		t.Errorf("defaults: --metrics %q, --listen-metrics-urls %v; want basic and none", cfg.Metrics, cfg.ListenMetricsURLs)
	}
	cfg, err = Parse([]string{"--metrics", "extensive", "--listen-metrics-urls", "http://127.0.0.1:2381,http://127.0.0.1:2382"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics != "extensive" || len(cfg.ListenMetricsURLs) != 2 || cfg.ListenMetricsURLs[1].Host != "127.0.0.1:2382" {
		t.Errorf("flags: --metrics %q, --listen-metrics-urls %v", cfg.Metrics, cfg.ListenMetricsURLs)
	}
	env := map[string]string{"ETCD_LISTEN_METRICS_URLS": "http://localhost:2381", "ETCD_METRICS": "extensive"}
	cfg, err = Parse(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics != "extensive" || len(cfg.ListenMetricsURLs) != 1 || cfg.ListenMetricsURLs[0].String() != "http://localhost:2381" {
		t.Errorf("env: --metrics %q, --listen-metrics-urls %v", cfg.Metrics, cfg.ListenMetricsURLs)
	}
	if _, err := Parse([]string{"--listen-metrics-urls", "ftp://127.0.0.1:2381"}, nil); err == nil {
		t.Error("--listen-metrics-urls accepted an ftp URL")
	}
}
