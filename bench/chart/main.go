// Command chart draws the bar chart of bench/results/report.md as a PNG,
// with the standard library only (image/png and a built-in 5x7 bitmap font).
//
//	go run ./bench/chart -in bench/results/raw/chart.json -out bench/results/chart.png
//
// The input is written by bench/benchlib.py report:
//
//	{"title": "...", "series": ["PARLEY", "KAMAILIO"],
//	 "panels": [{"title": "...", "decimals": 0,
//	             "groups": [{"label": "NO AUTH", "parley": 12000, "kamailio": 20000}]}]}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"
)

type group struct {
	Label    string  `json:"label"`
	Parley   float64 `json:"parley"`
	Kamailio float64 `json:"kamailio"`
}

type panel struct {
	Title    string  `json:"title"`
	Decimals int     `json:"decimals"`
	Groups   []group `json:"groups"`
}

type chart struct {
	Title  string   `json:"title"`
	Series []string `json:"series"`
	Panels []panel  `json:"panels"`
}

var (
	white    = color.RGBA{255, 255, 255, 255}
	black    = color.RGBA{30, 30, 30, 255}
	grey     = color.RGBA{200, 200, 200, 255}
	seriesCo = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}}
)

func main() {
	in := flag.String("in", "", "chart JSON")
	out := flag.String("out", "chart.png", "PNG to write")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	var c chart
	if err := json.Unmarshal(data, &c); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	img := draw(c)
	f, err := os.Create(*out)
	if err == nil {
		err = png.Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

const (
	panelW = 420
	panelH = 380
	top    = 70
	margin = 20
)

func draw(c chart) *image.RGBA {
	n := len(c.Panels)
	if n == 0 {
		n = 1
	}
	cols := n
	if cols > 3 {
		cols = 3
	}
	rows := (n + cols - 1) / cols
	w := margin*2 + cols*panelW
	h := top + rows*panelH + margin
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), white)
	text(img, margin, 16, c.Title, 3, black)
	// legend
	x := margin
	for i, s := range c.Series {
		fill(img, image.Rect(x, 46, x+16, 58), seriesCo[i%len(seriesCo)])
		text(img, x+22, 46, s, 2, black)
		x += 22 + textWidth(s, 2) + 30
	}
	for i, p := range c.Panels {
		ox := margin + (i%cols)*panelW
		oy := top + (i/cols)*panelH
		drawPanel(img, ox, oy, p)
	}
	return img
}

func drawPanel(img *image.RGBA, ox, oy int, p panel) {
	text(img, ox+10, oy+10, p.Title, 2, black)
	plotL, plotR := ox+20, ox+panelW-20
	plotT, plotB := oy+60, oy+panelH-50
	max := 0.0
	for _, g := range p.Groups {
		max = math.Max(max, math.Max(g.Parley, g.Kamailio))
	}
	if max <= 0 {
		max = 1
	}
	scale := float64(plotB-plotT) / (max * 1.12)
	// axis
	fill(img, image.Rect(plotL, plotB, plotR, plotB+2), black)
	// light grid at quarters of the largest value
	for q := 1; q <= 4; q++ {
		y := plotB - int(float64(q)/4*max*scale)
		for x := plotL; x < plotR; x += 6 {
			fill(img, image.Rect(x, y, x+3, y+1), grey)
		}
	}
	ng := len(p.Groups)
	if ng == 0 {
		return
	}
	gw := (plotR - plotL) / ng
	barW := gw / 4
	for i, g := range p.Groups {
		gx := plotL + i*gw
		vals := []float64{g.Parley, g.Kamailio}
		for j, v := range vals {
			bx := gx + gw/2 - barW - 14 + j*(barW+28)
			bh := int(v * scale)
			fill(img, image.Rect(bx, plotB-bh, bx+barW, plotB), seriesCo[j])
			label := "-"
			if v > 0 {
				label = format(v, p.Decimals)
			}
			lw := textWidth(label, 2)
			text(img, bx+barW/2-lw/2, plotB-bh-20, label, 2, black)
		}
		lw := textWidth(g.Label, 2)
		text(img, gx+gw/2-lw/2, plotB+12, g.Label, 2, black)
		if g.Parley > 0 && g.Kamailio > 0 {
			r := "P/K " + strconv.FormatFloat(g.Parley/g.Kamailio, 'f', 2, 64)
			rw := textWidth(r, 2)
			text(img, gx+gw/2-rw/2, plotB+30, r, 2, black)
		}
	}
}

// format renders v with thousands separators (decimals 0) or fixed decimals.
func format(v float64, decimals int) string {
	if decimals > 0 {
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func textWidth(s string, scale int) int { return len(s) * 6 * scale }

// text draws s (upper-cased) with the 5x7 font, each pixel scale x scale.
func text(img *image.RGBA, x, y int, s string, scale int, c color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := font[r]
		if !ok {
			g = font['?']
		}
		for row, bits := range g {
			for col := 0; col < 5; col++ {
				if bits[col] == '#' {
					fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
				}
			}
		}
		x += 6 * scale
	}
}

var font = map[rune][7]string{
	' ':  {".....", ".....", ".....", ".....", ".....", ".....", "....."},
	'0':  {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1':  {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2':  {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3':  {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
	'4':  {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5':  {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6':  {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7':  {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8':  {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9':  {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
	'A':  {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'B':  {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
	'C':  {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'D':  {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."},
	'E':  {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'F':  {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'G':  {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"},
	'H':  {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'I':  {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'J':  {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."},
	'K':  {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
	'L':  {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'M':  {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'N':  {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"},
	'O':  {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'P':  {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'Q':  {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"},
	'R':  {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'S':  {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'T':  {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'U':  {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'V':  {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'W':  {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
	'X':  {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
	'Y':  {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
	'Z':  {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"},
	'.':  {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
	',':  {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."},
	':':  {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."},
	'/':  {"....#", "...#.", "...#.", "..#..", ".#...", ".#...", "#...."},
	'%':  {"##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"},
	'(':  {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."},
	')':  {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."},
	'-':  {".....", ".....", ".....", "#####", ".....", ".....", "....."},
	'+':  {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."},
	'=':  {".....", ".....", "#####", ".....", "#####", ".....", "....."},
	'_':  {".....", ".....", ".....", ".....", ".....", ".....", "#####"},
	'\'': {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."},
	'#':  {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."},
	'>':  {"#....", ".#...", "..#..", "...#.", "..#..", ".#...", "#...."},
	'<':  {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."},
	'|':  {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'?':  {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."},
	'µ':  {".....", "#...#", "#...#", "#...#", "##.##", "#.#.#", "#...."},
}
