package bigquery

import (
	"context"
	"fmt"
	"os"
	"strings"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Environment variables that point every Beamline BigQuery transform at an emulator without
// code changes (the BigQuery Go client has no emulator variable of its own).
const (
	// EnvEmulatorHost is the emulator's REST host:port, e.g. 127.0.0.1:9050.
	EnvEmulatorHost = "BIGQUERY_EMULATOR_HOST"
	// EnvEmulatorGRPCHost is the emulator's Storage API gRPC host:port, e.g. 127.0.0.1:9060.
	EnvEmulatorGRPCHost = "BIGQUERY_EMULATOR_GRPC_HOST"
)

// Conn says where BigQuery is. The zero value is Google's BigQuery with Application Default
// Credentials. It is plain data, so pipelines serialise it into their DoFns.
type Conn struct {
	// Project runs jobs and queries and is billed; empty means the table's project.
	Project string `json:"project,omitempty"`
	// Endpoint is the REST endpoint (tables, queries, load jobs), e.g. http://127.0.0.1:9050.
	Endpoint string `json:"endpoint,omitempty"`
	// GRPCEndpoint is the Storage Write API endpoint, host:port.
	GRPCEndpoint string `json:"grpc_endpoint,omitempty"`
	// Emulator marks goccy/bigquery-emulator: no credentials, plaintext gRPC, and the
	// encoding workarounds described in the package documentation.
	Emulator bool `json:"emulator,omitempty"`
}

// EmulatorConn is the Conn of a goccy/bigquery-emulator serving REST on httpHostPort and
// gRPC on grpcHostPort.
func EmulatorConn(httpHostPort, grpcHostPort string) Conn {
	return Conn{Endpoint: "http://" + httpHostPort, GRPCEndpoint: grpcHostPort, Emulator: true}
}

// Resolve fills the endpoints from BIGQUERY_EMULATOR_HOST and BIGQUERY_EMULATOR_GRPC_HOST
// when c names none. Transforms resolve at construction time, so the choice made where the
// pipeline is built is serialised to the workers.
func (c Conn) Resolve() Conn {
	if c.Endpoint == "" && c.GRPCEndpoint == "" {
		if h := os.Getenv(EnvEmulatorHost); h != "" {
			c.Endpoint = h
			if !strings.Contains(h, "://") {
				c.Endpoint = "http://" + h
			}
			c.GRPCEndpoint = os.Getenv(EnvEmulatorGRPCHost)
			c.Emulator = true
		}
	}
	return c
}

func (c Conn) project(t Table) string {
	if c.Project != "" {
		return c.Project
	}
	return t.Project
}

func (c Conn) restOptions() []option.ClientOption {
	var opts []option.ClientOption
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	if c.Emulator {
		opts = append(opts, option.WithoutAuthentication())
	}
	return opts
}

func (c Conn) grpcOptions() []option.ClientOption {
	// Every AppendRows request names its stream (see nameEveryAppend).
	opts := []option.ClientOption{option.WithGRPCDialOption(grpc.WithChainStreamInterceptor(nameEveryAppend))}
	if c.GRPCEndpoint != "" {
		opts = append(opts, option.WithEndpoint(c.GRPCEndpoint))
	}
	if c.Emulator {
		opts = append(opts, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	return opts
}

// NewClient returns a REST client for t's project (or c.Project).
func (c Conn) NewClient(ctx context.Context, t Table) (*bigquery.Client, error) {
	c = c.Resolve()
	cl, err := bigquery.NewClient(ctx, c.project(t), c.restOptions()...)
	if err != nil {
		return nil, fmt.Errorf("bigquery: connecting to %s: %w", c.where(), err)
	}
	return cl, nil
}

// NewWriteClient returns a Storage Write API client for t's project (or c.Project).
func (c Conn) NewWriteClient(ctx context.Context, t Table) (*managedwriter.Client, error) {
	c = c.Resolve()
	if c.Emulator && c.GRPCEndpoint == "" {
		return nil, fmt.Errorf("bigquery: the emulator's gRPC endpoint is not set (set %s or Conn.GRPCEndpoint)", EnvEmulatorGRPCHost)
	}
	cl, err := managedwriter.NewClient(ctx, c.project(t), c.grpcOptions()...)
	if err != nil {
		return nil, fmt.Errorf("bigquery: connecting to the Storage Write API at %s: %w", c.where(), err)
	}
	return cl, nil
}

func (c Conn) where() string {
	if c.Endpoint == "" && c.GRPCEndpoint == "" {
		return "Google"
	}
	return strings.TrimSpace(c.Endpoint + " " + c.GRPCEndpoint)
}

// nameEveryAppend sets the write stream on every AppendRows request that lacks it.
//
// managedwriter names the stream only in the first request of a connection, as the API
// allows. goccy/bigquery-emulator v0.6.6 resolves a request without a name to an arbitrary
// stream of its stream map (server/storage_handler.go, appendRows), so with two tables written
// at once rows land in the wrong table. Naming the stream every time is valid for BigQuery too
// (the multiplexing optimizer of managedwriter does it), so this runs everywhere and tests
// exercise the production path. The request is copied field by field, never the rows.
func nameEveryAppend(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil || !strings.HasSuffix(method, "/AppendRows") {
		return cs, err
	}
	return &namingStream{ClientStream: cs}, nil
}

type namingStream struct {
	grpc.ClientStream
	name string
}

func (s *namingStream) SendMsg(m any) error {
	req, ok := m.(*storagepb.AppendRowsRequest)
	if !ok {
		return s.ClientStream.SendMsg(m)
	}
	if req.GetWriteStream() != "" {
		s.name = req.GetWriteStream()
		return s.ClientStream.SendMsg(m)
	}
	named := &storagepb.AppendRowsRequest{
		WriteStream:                       s.name,
		Offset:                            req.Offset,
		Rows:                              req.Rows,
		TraceId:                           req.TraceId,
		MissingValueInterpretations:       req.MissingValueInterpretations,
		DefaultMissingValueInterpretation: req.DefaultMissingValueInterpretation,
		ClientStats:                       req.ClientStats,
	}
	return s.ClientStream.SendMsg(named)
}
