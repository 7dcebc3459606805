package render

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"
)

// aheadWork is the expensive work of the crypto template functions done
// ahead of need: RSA keys generated in the background as soon as a chart
// whose templates call the key-generating functions is prepared, and
// derivePassword's results, which depend on nothing but the arguments,
// computed once per argument list (and, for literal arguments, as soon as
// the chart is prepared). Template output is unchanged: every generated
// key is used once, as a key generated during the call would be, and the
// certificates and PEM blocks are made by sprig's own functions.
type aheadWork struct {
	rsa2048   *keyPool // genCA, genSelfSignedCert, genSignedCert
	rsa4096   *keyPool // genPrivateKey "rsa"
	passwords passwordMemo
}

// newAheadWork returns idle pools; refill is for long-lived use (a Cache).
func newAheadWork(refill bool) *aheadWork {
	return &aheadWork{rsa2048: newKeyPool(certKeyBits, refill), rsa4096: newKeyPool(privateKeyBits, refill)}
}

// start begins the work a chart's templates will ask for.
func (a *aheadWork) start(d cryptoDemand, funcs *funcTable) {
	if d.rsa2048 > 0 {
		a.rsa2048.want(d.rsa2048)
	}
	if d.rsa4096 > 0 {
		a.rsa4096.want(d.rsa4096)
	}
	for _, args := range d.passwords {
		if f := a.passwords.future(args, funcs.derivePassword); f != nil {
			go f.get()
		}
	}
}

// stop ends the background work.
func (a *aheadWork) stop() {
	a.rsa2048.stop()
	a.rsa4096.stop()
}

// Sizes of the keys sprig generates: certificates use 2048 bits,
// genPrivateKey "rsa" 4096.
const (
	certKeyBits    = 2048
	privateKeyBits = 4096
)

// derivePasswordFunc is the signature of sprig's derivePassword.
type derivePasswordFunc = func(counter uint32, passwordType, password, user, site string) string

// passwordArgs are the arguments of one derivePassword call.
type passwordArgs struct {
	counter                    uint32
	kind, password, user, site string
}

// passwordMemo keeps derivePassword's results by arguments, up to
// passwordMemoMax of them.
type passwordMemo struct {
	m sync.Map // passwordArgs -> *passwordFuture
	n atomic.Int64
}

const passwordMemoMax = 64

// passwordFuture is one derivePassword result, computed once.
type passwordFuture struct {
	once sync.Once
	args passwordArgs
	fn   derivePasswordFunc
	out  string
}

func (f *passwordFuture) get() string {
	f.once.Do(func() {
		a := f.args
		f.out = f.fn(a.counter, a.kind, a.password, a.user, a.site)
	})
	return f.out
}

// future returns the memo's future for args, or nil when the memo is
// full.
func (m *passwordMemo) future(args passwordArgs, fn derivePasswordFunc) *passwordFuture {
	if v, ok := m.m.Load(args); ok {
		return v.(*passwordFuture)
	}
	if m.n.Load() >= passwordMemoMax {
		return nil
	}
	v, loaded := m.m.LoadOrStore(args, &passwordFuture{args: args, fn: fn})
	if !loaded {
		m.n.Add(1)
	}
	return v.(*passwordFuture)
}

// cryptoFuncs returns the crypto functions of a template set bound to a's
// pools and memo, with the signatures of sprig's; nil entries are left
// out (sprig's own then stay in place).
func (ft *funcTable) cryptoFuncs(a *aheadWork) template.FuncMap {
	out := template.FuncMap{}
	for _, name := range []string{"genCA", "genSelfSignedCert", "genSignedCert"} {
		if fn := withPooledKey(ft.funcs[name], ft.funcs[name+"WithKey"], a.rsa2048); fn != nil {
			out[name] = fn
		}
	}
	if gen, ok := ft.funcs["genPrivateKey"].(func(string) string); ok {
		pool := a.rsa4096
		out["genPrivateKey"] = func(typ string) string {
			if typ == "" || typ == "rsa" {
				if key, err := pool.takePEM(); err == nil {
					return key
				}
			}
			return gen(typ)
		}
	}
	if derive := ft.derivePassword; derive != nil && ft.funcs["derivePassword"] != nil {
		out["derivePassword"] = func(counter uint32, passwordType, password, user, site string) string {
			if f := a.passwords.future(passwordArgs{counter, passwordType, password, user, site}, derive); f != nil {
				return f.get()
			}
			return derive(counter, passwordType, password, user, site)
		}
	}
	return out
}

// withPooledKey makes a function with fn's signature that calls withKey
// (fn's "...WithKey" variant, which takes a PEM key as its last argument)
// with a key from pool; nil if the signatures do not fit.
func withPooledKey(fn, withKey any, pool *keyPool) any {
	if fn == nil || withKey == nil {
		return nil
	}
	ft, wt := reflect.TypeOf(fn), reflect.TypeOf(withKey)
	if ft.Kind() != reflect.Func || wt.Kind() != reflect.Func || wt.NumIn() != ft.NumIn()+1 ||
		wt.In(wt.NumIn()-1).Kind() != reflect.String || wt.NumOut() != ft.NumOut() {
		return nil
	}
	for i := range ft.NumIn() {
		if ft.In(i) != wt.In(i) {
			return nil
		}
	}
	for i := range ft.NumOut() {
		if ft.Out(i) != wt.Out(i) {
			return nil
		}
	}
	plain, keyed := reflect.ValueOf(fn), reflect.ValueOf(withKey)
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		key, err := pool.takePEM()
		if err != nil {
			return plain.Call(args)
		}
		return keyed.Call(append(args[:len(args):len(args)], reflect.ValueOf(key)))
	}).Interface()
}

// cryptoDemand is what a chart's templates ask of the crypto functions,
// counted per call site: certificate keys, 4096-bit private keys, and the
// derivePassword calls whose arguments are all literals.
type cryptoDemand struct {
	rsa2048, rsa4096 int
	passwords        []passwordArgs
}

// Bounds of what is done ahead for one chart.
const (
	aheadMaxPrivateKeys = 2
	aheadMaxPasswords   = 4
)

// scanCryptoDemand counts the crypto calls in a template's trees.
func scanCryptoDemand(trees map[string]*parse.Tree, d *cryptoDemand) {
	for _, t := range trees {
		if t != nil && t.Root != nil {
			walkCommands(t.Root, func(cmd *parse.CommandNode) {
				id, ok := cmd.Args[0].(*parse.IdentifierNode)
				if !ok {
					return
				}
				switch id.Ident {
				case "genCA", "genSelfSignedCert", "genSignedCert":
					d.rsa2048 = min(d.rsa2048+1, keyPoolMax)
				case "genPrivateKey":
					if len(cmd.Args) == 2 {
						if s, ok := cmd.Args[1].(*parse.StringNode); ok && (s.Text == "" || s.Text == "rsa") {
							d.rsa4096 = min(d.rsa4096+1, aheadMaxPrivateKeys)
						}
					}
				case "derivePassword":
					if args, ok := literalPasswordArgs(cmd.Args[1:]); ok && len(d.passwords) < aheadMaxPasswords {
						d.passwords = append(d.passwords, args)
					}
				}
			})
		}
	}
}

// literalPasswordArgs reads derivePassword's arguments when they are all
// literals of the types it takes, as text/template would convert them.
func literalPasswordArgs(args []parse.Node) (passwordArgs, bool) {
	if len(args) != 5 {
		return passwordArgs{}, false
	}
	n, ok := args[0].(*parse.NumberNode)
	if !ok || !n.IsUint || n.Uint64 > 1<<32-1 {
		return passwordArgs{}, false
	}
	var s [4]string
	for i, a := range args[1:] {
		str, ok := a.(*parse.StringNode)
		if !ok {
			return passwordArgs{}, false
		}
		s[i] = str.Text
	}
	return passwordArgs{counter: uint32(n.Uint64), kind: s[0], password: s[1], user: s[2], site: s[3]}, true
}

// walkCommands calls fn for every command of every pipeline under n.
func walkCommands(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkCommands(c, fn)
			}
		}
	case *parse.ActionNode:
		walkCommands(n.Pipe, fn)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkCommands(c, fn)
			}
		}
	case *parse.CommandNode:
		if len(n.Args) > 0 {
			fn(n)
		}
		for _, a := range n.Args {
			walkCommands(a, fn)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.ChainNode:
		walkCommands(n.Node, fn)
	case *parse.TemplateNode:
		walkCommands(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(*parse.CommandNode)) {
	walkCommands(b.Pipe, fn)
	walkCommands(b.List, fn)
	if b.ElseList != nil {
		walkCommands(b.ElseList, fn)
	}
}

// stopWhenUnreachable stops a's background work once owner is garbage.
func stopWhenUnreachable[T any](owner *T, a *aheadWork) {
	runtime.AddCleanup(owner, func(a *aheadWork) { a.stop() }, a)
}
