package bigquery_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// faultProxy is a loopback gRPC proxy in front of the emulator's Storage API. It forwards
// every call frame by frame, except that it answers AppendRows streams with UNAVAILABLE while
// failures remain (failAppends < 0: forever). The client sees a real network failure from a
// real server; nothing of the client library is replaced.
type faultProxy struct {
	Addr        string
	failAppends atomic.Int64
	failed      atomic.Int64 // AppendRows requests answered with UNAVAILABLE
	forwarded   atomic.Int64 // AppendRows requests forwarded
}

type frame struct{ b []byte }

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*frame).b, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*frame).b = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func newFaultProxy(t testing.TB, backend string, failAppends int64) *faultProxy {
	t.Helper()
	conn, err := grpc.NewClient(backend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{Addr: lis.Addr().String()}
	p.failAppends.Store(failAppends)
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		return p.handle(conn, ss)
	}))
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Stop(); conn.Close() })
	return p
}

func (p *faultProxy) handle(conn *grpc.ClientConn, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	appends := strings.HasSuffix(method, "/AppendRows")
	if appends && p.takeFailure() {
		f := &frame{}
		if err := ss.RecvMsg(f); err != nil {
			return err
		}
		p.failed.Add(1)
		return status.Error(codes.Unavailable, "faultProxy: injected UNAVAILABLE")
	}
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	md, _ := metadata.FromIncomingContext(ctx)
	cs, err := conn.NewStream(metadata.NewOutgoingContext(ctx, md), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	upDone := make(chan error, 1)
	go func() {
		for {
			f := &frame{}
			if err := ss.RecvMsg(f); err != nil {
				if err == io.EOF {
					upDone <- cs.CloseSend()
				} else {
					upDone <- err
				}
				return
			}
			if appends {
				p.forwarded.Add(1)
			}
			if err := cs.SendMsg(f); err != nil {
				upDone <- err
				return
			}
		}
	}()
	if hdr, err := cs.Header(); err == nil {
		ss.SendHeader(hdr)
	}
	for {
		f := &frame{}
		if err := cs.RecvMsg(f); err != nil {
			ss.SetTrailer(cs.Trailer())
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := ss.SendMsg(f); err != nil {
			return err
		}
	}
}

func (p *faultProxy) takeFailure() bool {
	for {
		n := p.failAppends.Load()
		if n == 0 {
			return false
		}
		if n < 0 || p.failAppends.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
