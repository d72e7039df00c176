module example.com/flyteclient

go 1.24

require (
	github.com/flyteorg/flyte/flyteidl v1.16.8
	google.golang.org/grpc v1.85.0
)
