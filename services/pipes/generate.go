package pipes

// The Go code in pipespb is generated from the published .proto and checked
// in. To regenerate, with Debian's protobuf-compiler and the two plugins
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
// google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2):
//
//go:generate protoc -I ../../proto --go_out=../.. --go_opt=module=github.com/overlap-go/overlap --go-grpc_out=../.. --go-grpc_opt=module=github.com/overlap-go/overlap overlap/pipes/v1/pipes.proto
