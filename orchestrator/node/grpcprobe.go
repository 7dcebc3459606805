package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The gRPC probe calls the standard health service,
// grpc.health.v1.Health/Check, as the kubelet does: over HTTP/2 without
// TLS (the kubelet's gRPC probes never use TLS), with the probe's
// service name, and passes when the answer is SERVING. The call is small
// enough to make with net/http's unencrypted HTTP/2 and the two one-field
// protobuf messages written by hand, rather than link a gRPC stack into
// every pkg command.

// grpcHealthStatus names grpc.health.v1.HealthCheckResponse.ServingStatus.
var grpcHealthStatus = map[uint64]string{0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}

// grpcCodes names gRPC status codes as grpc-go prints them.
var grpcCodes = []string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

// grpcCheck runs one health check against addr (host:port), dialing with
// dial. Its errors read as the kubelet's gRPC prober words them.
func grpcCheck(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error), addr, service string, timeout time.Duration) error {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{DialContext: dial, Protocols: &protocols, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()

	// HealthCheckRequest{service = 1}: the field is left out when empty.
	var msg []byte
	if service != "" {
		msg = binary.AppendUvarint([]byte{0x0a}, uint64(len(service)))
		msg = append(msg, service...)
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	frame = append(frame, msg...)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/grpc.health.v1.Health/Check", bytes.NewReader(frame))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("User-Agent", "kube-probe/1.37")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("timeout: failed to connect service %q within %v: %v", addr, timeout, ctx.Err())
		}
		return fmt.Errorf("failed to connect service at %q: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("timeout: health rpc did not complete within %v", timeout)
		}
		return fmt.Errorf("health rpc probe failed: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health rpc probe failed: rpc error: code = Unknown desc = unexpected HTTP status %s", resp.Status)
	}
	// The status comes in the trailers, or in the headers of a
	// trailers-only answer (an error with no message).
	status, message := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if status == "" {
		status, message = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if status != "0" {
		code := "Unknown"
		if n, err := strconv.Atoi(status); err == nil && n >= 0 && n < len(grpcCodes) {
			code = grpcCodes[n]
		}
		if m, err := url.PathUnescape(message); err == nil {
			message = m
		}
		return fmt.Errorf("health rpc probe failed: rpc error: code = %s desc = %s", code, message)
	}
	serving, err := grpcServingStatus(body)
	if err != nil {
		return fmt.Errorf("health rpc probe failed: %v", err)
	}
	if serving != 1 {
		name, ok := grpcHealthStatus[serving]
		if !ok {
			name = strconv.FormatUint(serving, 10)
		}
		return fmt.Errorf("service unhealthy (responded with %q)", name)
	}
	return nil
}

// grpcServingStatus reads HealthCheckResponse.status (field 1, a varint)
// from one length-prefixed gRPC message.
func grpcServingStatus(b []byte) (uint64, error) {
	if len(b) < 5 {
		return 0, errors.New("the health service sent no message")
	}
	if b[0] != 0 {
		return 0, errors.New("the health service sent a compressed message")
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if uint32(len(b)-5) < n {
		return 0, errors.New("the health service's message is cut short")
	}
	msg := b[5 : 5+n]
	var status uint64 // absent: UNKNOWN
	for len(msg) > 0 {
		key, k := binary.Uvarint(msg)
		if k <= 0 {
			return 0, errors.New("malformed health response")
		}
		msg = msg[k:]
		switch key & 7 {
		case 0: // varint
			v, k := binary.Uvarint(msg)
			if k <= 0 {
				return 0, errors.New("malformed health response")
			}
			msg = msg[k:]
			if key>>3 == 1 {
				status = v
			}
		case 2: // length-delimited: skipped
			l, k := binary.Uvarint(msg)
			if k <= 0 || uint64(len(msg)-k) < l {
				return 0, errors.New("malformed health response")
			}
			msg = msg[k+int(l):]
		case 1:
			if len(msg) < 8 {
				return 0, errors.New("malformed health response")
			}
			msg = msg[8:]
		case 5:
			if len(msg) < 4 {
				return 0, errors.New("malformed health response")
			}
			msg = msg[4:]
		default:
			return 0, errors.New("malformed health response")
		}
	}
	return status, nil
}
