// scrapeload: N concurrent scrapers, each GETting a URL back to back over its own keep-alive
// connection for a fixed time (or pacing itself to one scrape per -every), then latency percentiles as
// JSON. Written in Go so that the load generator, not the exporter under test, is never the bottleneck.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

type result struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Bytes       int64   `json:"bytes_per_response"`
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func main() {
	url := flag.String("url", "", "URL to scrape")
	concurrency := flag.Int("c", 1, "concurrent scrapers")
	duration := flag.Duration("d", 5*time.Second, "how long to scrape")
	every := flag.Duration("every", 0, "each scraper waits this long between scrapes (0: back to back)")
	warmup := flag.Int("warmup", 5, "unmeasured scrapes per scraper first")
	timeout := flag.Duration("timeout", 30*time.Second, "per-scrape timeout")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "-url is required")
		os.Exit(2)
	}
	var mu sync.Mutex
	var latencies []float64
	errors := 0
	var size int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(*duration)
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{
				Timeout:   *timeout,
				Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
			}
			local := []float64{}
			localErrors := 0
			if *every > 0 { // spread the scrapers over the interval, like independent Prometheus servers
				time.Sleep(time.Duration(int64(*every) * int64(w) / int64(*concurrency)))
			}
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				resp, err := client.Get(*url)
				if err != nil {
					localErrors++
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				elapsed := time.Since(t0)
				if resp.StatusCode != 200 {
					localErrors++
				} else if i >= *warmup {
					local = append(local, float64(elapsed.Microseconds())/1000.0)
				}
				mu.Lock()
				size = n
				mu.Unlock()
				if *every > 0 {
					time.Sleep(*every - elapsed)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errors += localErrors
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	sort.Float64s(latencies)
	out := result{
		Concurrency: *concurrency,
		Requests:    len(latencies),
		Errors:      errors,
		Seconds:     time.Since(start).Seconds(),
		P50Ms:       percentile(latencies, 0.50),
		P90Ms:       percentile(latencies, 0.90),
		P99Ms:       percentile(latencies, 0.99),
		Bytes:       size,
	}
	if len(latencies) > 0 {
		out.MaxMs = latencies[len(latencies)-1]
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
