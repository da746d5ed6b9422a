package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// goldenSep separates a golden file's YAML input from its expected output.
const goldenSep = "\n----\n"

// TestGolden runs every testdata/*.golden file. The YAML on top is loaded
// (with the flags on a first line "# args: ..." when present, through
// RegisterFlags and Flags.Load); the part after "----" is either the
// normalized config or "error: " and a substring of the error. Line
// numbers in errors are the golden file's own lines.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".golden")
		t.Run(name, func(t *testing.T) {
			input, want := readGolden(t, file)
			got := runGolden(t, name, input)
			if *update {
				writeGolden(t, file, input, got, want)
				return
			}
			checkGolden(t, got, want)
		})
	}
}

func readGolden(t *testing.T, file string) (input, want string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	input, want, ok := strings.Cut(string(data), goldenSep)
	if !ok {
		t.Fatalf("%s: no %q separator line", file, strings.TrimSpace(goldenSep))
	}
	return input + "\n", want
}

// runGolden loads input and returns the normalized YAML or "error: ...".
func runGolden(t *testing.T, name, input string) string {
	t.Helper()
	c, err := loadGolden(t, name, input)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return marshal(t, c)
}

func loadGolden(t *testing.T, name, input string) (*Config, error) {
	args, ok := strings.CutPrefix(strings.SplitN(input, "\n", 2)[0], "# args:")
	if !ok {
		return Parse([]byte(input), name+".yaml")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse(append([]string{"--config", path}, strings.Fields(args)...)); err != nil {
		t.Fatal(err)
	}
	c, err := f.Load()
	if err != nil {
		// Make the message independent of the temporary directory.
		err = errorString(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	}
	return c, err
}

type errorString string

func (e errorString) Error() string { return string(e) }

func marshal(t *testing.T, c *Config) string {
	t.Helper()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func checkGolden(t *testing.T, got, want string) {
	t.Helper()
	if sub, isErr := strings.CutPrefix(want, "error: "); isErr {
		sub = strings.TrimSpace(sub)
		if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, sub) {
			t.Errorf("want error containing\n%s\ngot:\n%s", sub, got)
		}
		return
	}
	if got != want {
		t.Errorf("output differs (run go test -update to accept)\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// writeGolden rewrites file. An expected error substring that still matches
// is kept as written, so hand-picked substrings survive -update.
func writeGolden(t *testing.T, file, input, got, want string) {
	t.Helper()
	if sub, isErr := strings.CutPrefix(want, "error: "); isErr && strings.Contains(got, strings.TrimSpace(sub)) {
		got = want
	}
	out := strings.TrimSuffix(input, "\n") + goldenSep + got
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
