// A Go program written for the official flyteidl Go module, github.com/flyteorg/flyte/flyteidl.
// tests/e2e/clients/test_generated_clients.py builds it against the module scripts/generate_clients.sh
// generates from idl/ in the two ways the README gives: with the module prefix of its flyteidl
// imports changed to ours, and unchanged with a go.mod `replace` directive.
//
// It lists projects, launches a registered launch plan with typed inputs, waits for the execution
// to succeed and prints one JSON line with what it read.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/admin"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/core"
	"github.com/flyteorg/flyte/flyteidl/gen/pb-go/flyteidl/service"
)

func primitive(p *core.Primitive) *core.Literal {
	return &core.Literal{Value: &core.Literal_Scalar{Scalar: &core.Scalar{Value: &core.Scalar_Primitive{Primitive: p}}}}
}

func integer(v int64) *core.Literal {
	return primitive(&core.Primitive{Value: &core.Primitive_Integer{Integer: v}})
}

func main() {
	address := flag.String("admin", "127.0.0.1:30080", "admin gRPC address")
	project := flag.String("project", "flytesnacks", "")
	domain := flag.String("domain", "development", "")
	launchPlan := flag.String("launch-plan", "", "launch plan name")
	version := flag.String("version", "", "launch plan version")
	name := flag.String("execution", "", "execution name")
	flag.Parse()

	conn, err := grpc.NewClient(*address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := service.NewAdminServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	projects, err := client.ListProjects(ctx, &admin.ProjectListRequest{})
	if err != nil {
		log.Fatalf("ListProjects: %v", err)
	}
	var projectIDs []string
	for _, p := range projects.GetProjects() {
		projectIDs = append(projectIDs, p.GetId())
	}

	inputs := &core.LiteralMap{Literals: map[string]*core.Literal{
		"n":     integer(3),
		"word":  primitive(&core.Primitive{Value: &core.Primitive_StringValue{StringValue: "ab"}}),
		"scale": primitive(&core.Primitive{Value: &core.Primitive_FloatValue{FloatValue: 1.5}}),
		"xs": {Value: &core.Literal_Collection{Collection: &core.LiteralCollection{
			Literals: []*core.Literal{integer(4), integer(5)},
		}}},
	}}
	created, err := client.CreateExecution(ctx, &admin.ExecutionCreateRequest{
		Project: *project,
		Domain:  *domain,
		Name:    *name,
		Spec: &admin.ExecutionSpec{
			LaunchPlan: &core.Identifier{
				ResourceType: core.ResourceType_LAUNCH_PLAN,
				Project:      *project,
				Domain:       *domain,
				Name:         *launchPlan,
				Version:      *version,
			},
			Metadata: &admin.ExecutionMetadata{Mode: admin.ExecutionMetadata_MANUAL, Principal: "go-client"},
		},
		Inputs: inputs,
	})
	if err != nil {
		log.Fatalf("CreateExecution: %v", err)
	}
	id := created.GetId()

	var phase core.WorkflowExecution_Phase
	for {
		execution, err := client.GetExecution(ctx, &admin.WorkflowExecutionGetRequest{Id: id})
		if err != nil {
			log.Fatalf("GetExecution: %v", err)
		}
		phase = execution.GetClosure().GetPhase()
		if phase == core.WorkflowExecution_SUCCEEDED || phase == core.WorkflowExecution_FAILED ||
			phase == core.WorkflowExecution_ABORTED || phase == core.WorkflowExecution_TIMED_OUT {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	data, err := client.GetExecutionData(ctx, &admin.WorkflowExecutionGetDataRequest{Id: id})
	if err != nil {
		log.Fatalf("GetExecutionData: %v", err)
	}
	outputs := data.GetFullOutputs().GetLiterals()
	out, _ := json.Marshal(map[string]any{
		"projects":  projectIDs,
		"execution": id.GetName(),
		"phase":     phase.String(),
		"outputs": map[string]any{
			"o0": outputs["o0"].GetScalar().GetPrimitive().GetInteger(),
			"o1": outputs["o1"].GetScalar().GetPrimitive().GetStringValue(),
			"o2": outputs["o2"].GetScalar().GetPrimitive().GetFloatValue(),
		},
	})
	fmt.Println(string(out))
}
