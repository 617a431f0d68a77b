package dashboard

import (
	"fmt"
	"slices"
	"strings"
)

// Layout sizes, in SVG user units.
const (
	nodeWidth  = 184
	nodeHeight = 44
	layerGap   = 64 // horizontal space between layers
	rowGap     = 20 // vertical space between nodes of one layer
	margin     = 16
	sweeps     = 8 // barycenter sweeps (each one down and one up)
)

// edge is a dependency: From must finish before To runs.
type edge struct{ From, To int }

// point is a position in the drawing.
type point struct{ X, Y float64 }

// placedNode is a node with its layer, its rank in the layer and its box.
type placedNode struct {
	Index       int // the node's index in the input
	Layer, Rank int
	X, Y, W, H  float64
}

// placedEdge is an edge drawn through the points of the dummy nodes of the
// layers it crosses.
type placedEdge struct {
	From, To int
	Points   []point
}

// graphLayout is a layered drawing of a DAG, layers from left to right.
type graphLayout struct {
	Width, Height float64
	Nodes         []placedNode // in input order
	Edges         []placedEdge
	Crossings     int
}

// vertex is a real node or a dummy placed on a long edge.
type vertex struct {
	node        int // input index, -1 for a dummy
	layer, rank int
	preds, succ []int // vertex indexes in adjacent layers
}

// layoutGraph lays out n nodes joined by edges: longest-path layering (a
// node sits one layer right of its furthest dependency), dummy vertices on
// edges that span several layers, then barycenter ordering sweeps that keep
// the ordering with the fewest crossings. Edges naming unknown nodes,
// self-loops and repeats are ignored; nodes on a cycle are layered after
// what they depend on outside it.
func layoutGraph(n int, edges []edge) graphLayout {
	edges = cleanEdges(n, edges)
	layer := longestPathLayers(n, edges)
	vs, chains := buildVertices(n, layer, edges)
	layers := groupLayers(vs)
	best, bestCross := cloneLayers(layers), crossings(vs, layers)
	for i := 0; i < sweeps && bestCross > 0; i++ {
		for l := 1; l < len(layers); l++ {
			orderByBarycenter(vs, layers, l, true)
		}
		for l := len(layers) - 2; l >= 0; l-- {
			orderByBarycenter(vs, layers, l, false)
		}
		if c := crossings(vs, layers); c < bestCross {
			best, bestCross = cloneLayers(layers), c
		}
	}
	setRanks(vs, best)
	return place(n, vs, best, chains, edges, bestCross)
}

// cleanEdges drops edges to unknown nodes, self-loops and repeats.
func cleanEdges(n int, edges []edge) []edge {
	seen := map[edge]bool{}
	out := make([]edge, 0, len(edges))
	for _, e := range edges {
		if e.From < 0 || e.To < 0 || e.From >= n || e.To >= n || e.From == e.To || seen[e] {
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

// longestPathLayers gives each node the length of the longest dependency
// chain before it. Nodes never freed (on a cycle) are placed one layer
// after their placed dependencies, in input order, their edges from other
// cycle members then pointing left.
func longestPathLayers(n int, edges []edge) []int {
	layer := make([]int, n)
	waiting := make([]int, n)
	succ := make([][]int, n)
	pred := make([][]int, n)
	for _, e := range edges {
		waiting[e.To]++
		succ[e.From] = append(succ[e.From], e.To)
		pred[e.To] = append(pred[e.To], e.From)
	}
	placed := make([]bool, n)
	var queue []int
	for i := range n {
		if waiting[i] == 0 {
			queue = append(queue, i)
		}
	}
	for done := 0; done < n; {
		if len(queue) == 0 { // a cycle: free its first unplaced node
			i := slices.Index(placed, false)
			waiting[i], queue = 0, append(queue, i)
			for _, p := range pred[i] {
				if placed[p] {
					layer[i] = max(layer[i], layer[p]+1)
				}
			}
		}
		v := queue[0]
		queue = queue[1:]
		placed[v] = true
		done++
		for _, s := range succ[v] {
			if placed[s] {
				continue
			}
			layer[s] = max(layer[s], layer[v]+1)
			if waiting[s]--; waiting[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	return layer
}

// buildVertices makes one vertex per node plus dummies along long edges,
// and returns, per edge, the chain of vertexes it passes through.
func buildVertices(n int, layer []int, edges []edge) ([]vertex, [][]int) {
	vs := make([]vertex, n)
	for i := range n {
		vs[i] = vertex{node: i, layer: layer[i]}
	}
	chains := make([][]int, len(edges))
	for k, e := range edges {
		from, to := e.From, e.To
		if layer[to] < layer[from] { // back edge inside a cycle: drawn reversed
			from, to = to, from
		}
		chain := []int{from}
		for l := layer[from] + 1; l < layer[to]; l++ {
			vs = append(vs, vertex{node: -1, layer: l})
			chain = append(chain, len(vs)-1)
		}
		chain = append(chain, to)
		for i := 1; i < len(chain); i++ {
			a, b := chain[i-1], chain[i]
			if vs[a].layer == vs[b].layer {
				continue // a same-layer cycle edge takes no part in ordering
			}
			vs[a].succ = append(vs[a].succ, b)
			vs[b].preds = append(vs[b].preds, a)
		}
		chains[k] = chain
	}
	return vs, chains
}

// groupLayers lists each layer's vertexes, real nodes in input order first
// within a layer's initial order, dummies after them.
func groupLayers(vs []vertex) [][]int {
	top := 0
	for _, v := range vs {
		top = max(top, v.layer)
	}
	layers := make([][]int, top+1)
	for i, v := range vs {
		layers[v.layer] = append(layers[v.layer], i)
	}
	if len(vs) == 0 {
		return nil
	}
	setRanks(vs, layers)
	return layers
}

func setRanks(vs []vertex, layers [][]int) {
	for _, l := range layers {
		for r, v := range l {
			vs[v].rank = r
		}
	}
}

func cloneLayers(layers [][]int) [][]int {
	out := make([][]int, len(layers))
	for i, l := range layers {
		out[i] = slices.Clone(l)
	}
	return out
}

// orderByBarycenter sorts layer l by the mean rank of each vertex's
// neighbours in the layer before it (down) or after it (up). A vertex
// without such neighbours keeps its own rank as its key.
func orderByBarycenter(vs []vertex, layers [][]int, l int, down bool) {
	key := make(map[int]float64, len(layers[l]))
	for _, v := range layers[l] {
		nbrs := vs[v].preds
		if !down {
			nbrs = vs[v].succ
		}
		if len(nbrs) == 0 {
			key[v] = float64(vs[v].rank)
			continue
		}
		sum := 0.0
		for _, u := range nbrs {
			sum += float64(vs[u].rank)
		}
		key[v] = sum / float64(len(nbrs))
	}
	slices.SortStableFunc(layers[l], func(a, b int) int {
		switch {
		case key[a] < key[b]:
			return -1
		case key[a] > key[b]:
			return 1
		}
		return 0
	})
	for r, v := range layers[l] {
		vs[v].rank = r
	}
}

// crossings counts the edge crossings between adjacent layers for the
// given order.
func crossings(vs []vertex, layers [][]int) int {
	rank := make([]int, len(vs))
	for _, l := range layers {
		for r, v := range l {
			rank[v] = r
		}
	}
	total := 0
	for _, l := range layers {
		var segs [][2]int
		for _, v := range l {
			for _, s := range vs[v].succ {
				segs = append(segs, [2]int{rank[v], rank[s]})
			}
		}
		for i := range segs {
			for j := i + 1; j < len(segs); j++ {
				a, b := segs[i], segs[j]
				if (a[0] < b[0] && a[1] > b[1]) || (a[0] > b[0] && a[1] < b[1]) {
					total++
				}
			}
		}
	}
	return total
}

// place turns layers and ranks into coordinates: layers are columns, each
// centred vertically on the tallest one.
func place(n int, vs []vertex, layers [][]int, chains [][]int, edges []edge, cross int) graphLayout {
	tallest := 0
	for _, l := range layers {
		tallest = max(tallest, len(l))
	}
	height := float64(tallest)*(nodeHeight+rowGap) - rowGap
	centre := func(v int) point {
		l := layers[vs[v].layer]
		top := (height - (float64(len(l))*(nodeHeight+rowGap) - rowGap)) / 2
		return point{
			X: margin + float64(vs[v].layer)*(nodeWidth+layerGap) + nodeWidth/2,
			Y: margin + top + float64(vs[v].rank)*(nodeHeight+rowGap) + nodeHeight/2,
		}
	}
	out := graphLayout{Crossings: cross, Nodes: make([]placedNode, n), Edges: make([]placedEdge, len(edges))}
	for i := range n {
		c := centre(i)
		out.Nodes[i] = placedNode{Index: i, Layer: vs[i].layer, Rank: vs[i].rank,
			X: c.X - nodeWidth/2, Y: c.Y - nodeHeight/2, W: nodeWidth, H: nodeHeight}
	}
	for k, e := range edges {
		chain := chains[k]
		pts := make([]point, len(chain))
		for i, v := range chain {
			pts[i] = centre(v)
		}
		// Start and end at the boxes' sides rather than their centres.
		pts[0].X += nodeWidth / 2
		pts[len(pts)-1].X -= nodeWidth / 2
		if chain[0] != e.From { // a reversed back edge: draw it from From to To
			slices.Reverse(pts)
		}
		out.Edges[k] = placedEdge{From: e.From, To: e.To, Points: pts}
	}
	if len(layers) > 0 {
		out.Width = 2*margin + float64(len(layers))*(nodeWidth+layerGap) - layerGap
		out.Height = 2*margin + height
	}
	return out
}

// path returns the SVG path data of an edge: a smooth horizontal S-curve
// between consecutive points.
func (e placedEdge) path() string {
	if len(e.Points) == 0 {
		return ""
	}
	var b strings.Builder
	p := e.Points[0]
	fmt.Fprintf(&b, "M%.1f %.1f", p.X, p.Y)
	for _, q := range e.Points[1:] {
		mid := (p.X + q.X) / 2
		fmt.Fprintf(&b, " C%.1f %.1f %.1f %.1f %.1f %.1f", mid, p.Y, mid, q.Y, q.X, q.Y)
		p = q
	}
	return b.String()
}
