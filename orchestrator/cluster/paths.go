package cluster

import "path/filepath"

// Names of the files Run keeps in the data directory, besides the store's.
const (
	CAFile         = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	TokenFile      = "token"
	StateFile      = "cluster.json"
	LogFile        = "serve.log"
)

// Paths names the files of one data directory.
type Paths struct {
	// Dir is the data directory.
	Dir string
}

// File returns the path of the named file in the data directory.
func (p Paths) File(name string) string { return filepath.Join(p.Dir, name) }

// CA returns the path of the certificate authority's certificate.
func (p Paths) CA() string { return p.File(CAFile) }

// Token returns the path of the bearer token.
func (p Paths) Token() string { return p.File(TokenFile) }

// State returns the path of the state file of the running server.
func (p Paths) State() string { return p.File(StateFile) }

// Log returns the path of the log of a server started in the background.
func (p Paths) Log() string { return p.File(LogFile) }
