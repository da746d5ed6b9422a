package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The last full run's data is kept in docs/bench: raw/ holds what
// bench/run.sh measured (sipbench's and run.sh's JSON lines, env.json), and
// report.md, raw/chart.json and chart.png are what it made of them. These
// tests make them again from raw/ and want the same result, so a change to
// bench/benchlib.py's report or to the chart that alters the published
// figures shows here. After a new run, copy its report.md, chart.png and
// raw/*.jsonl, env.json, chart.json into docs/bench.
const docs = "../../docs/bench"

// TestReportFromRawData runs benchlib.py report on docs/bench/raw and wants
// docs/bench/report.md and docs/bench/raw/chart.json back, byte for byte.
func TestReportFromRawData(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 not installed")
		}
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(py, "../benchlib.py", "report", "--raw", filepath.Join(docs, "raw"),
		"--out", filepath.Join(dir, "report.md"), "--chart-json", filepath.Join(dir, "chart.json"), "--chart-png", "chart.png")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("benchlib.py report: %v\n%s", err, out)
	}
	for _, f := range []struct{ got, want string }{
		{filepath.Join(dir, "report.md"), filepath.Join(docs, "report.md")},
		{filepath.Join(dir, "chart.json"), filepath.Join(docs, "raw", "chart.json")},
	} {
		got, want := read(t, f.got), read(t, f.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (%d bytes, want %d): regenerate docs/bench or fix the report", f.got, f.want, len(got), len(want))
		}
	}
}

// TestChartFromRawData draws docs/bench/raw/chart.json and wants the pixels
// of docs/bench/chart.png.
func TestChartFromRawData(t *testing.T) {
	var c chart
	if err := json.Unmarshal(read(t, filepath.Join(docs, "raw", "chart.json")), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Panels) == 0 {
		t.Fatal("chart.json has no panels")
	}
	got := draw(c)
	want, err := png.Decode(bytes.NewReader(read(t, filepath.Join(docs, "chart.png"))))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("chart is %v, docs/bench/chart.png is %v", got.Bounds(), want.Bounds())
	}
	diff := 0
	for y := got.Bounds().Min.Y; y < got.Bounds().Max.Y; y++ {
		for x := got.Bounds().Min.X; x < got.Bounds().Max.X; x++ {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				diff++
			}
		}
	}
	if diff > 0 {
		t.Errorf("%d pixels differ from docs/bench/chart.png", diff)
	}
}

// TestBarsScale: in one group, the larger value gets the taller bar, in its
// series' colour.
func TestBarsScale(t *testing.T) {
	img := draw(chart{Title: "T", Series: []string{"PARLEY", "KAMAILIO"},
		Panels: []panel{{Title: "P", Groups: []group{{Label: "G", Parley: 300, Kamailio: 100}}}}})
	heights := make([]int, len(seriesCo))
	for i, c := range seriesCo {
		heights[i] = columnOf(img, c)
	}
	if heights[0] == 0 || heights[1] == 0 {
		t.Fatalf("bar heights %v: a series has no bar", heights)
	}
	if heights[0] <= 2*heights[1] {
		t.Errorf("bar heights %v for values 300 and 100: want the first about three times the second", heights)
	}
}

// columnOf returns the height of the tallest run of pixels of colour c in
// any column of img, legend excluded (it is a short swatch).
func columnOf(img *image.RGBA, c interface{ RGBA() (r, g, b, a uint32) }) int {
	cr, cg, cb, _ := c.RGBA()
	best := 0
	for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == cr && g == cg && b == cb {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
