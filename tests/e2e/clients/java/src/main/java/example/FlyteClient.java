package example;

import com.flyteidl.admin.ExecutionCreateRequest;
import com.flyteidl.admin.ExecutionCreateResponse;
import com.flyteidl.admin.ExecutionMetadata;
import com.flyteidl.admin.ExecutionSpec;
import com.flyteidl.admin.Project;
import com.flyteidl.admin.ProjectListRequest;
import com.flyteidl.admin.WorkflowExecutionGetDataRequest;
import com.flyteidl.admin.WorkflowExecutionGetRequest;
import com.flyteidl.core.Identifier;
import com.flyteidl.core.Literal;
import com.flyteidl.core.LiteralCollection;
import com.flyteidl.core.LiteralMap;
import com.flyteidl.core.Primitive;
import com.flyteidl.core.ResourceType;
import com.flyteidl.core.Scalar;
import com.flyteidl.core.WorkflowExecution;
import com.flyteidl.core.WorkflowExecutionIdentifier;
import com.flyteidl.service.AdminServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Lists projects, launches a registered launch plan with typed inputs through the Java client
 * generated from flyteplane's idl/, waits for the execution to succeed and prints one JSON line.
 */
public final class FlyteClient {
  private static Literal primitive(Primitive p) {
    return Literal.newBuilder().setScalar(Scalar.newBuilder().setPrimitive(p)).build();
  }

  private static Literal integer(long v) {
    return primitive(Primitive.newBuilder().setInteger(v).build());
  }

  private static String arg(String[] args, String flag) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(flag)) {
        return args[i + 1];
      }
    }
    return "";
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public static void main(String[] args) throws Exception {
    String project = arg(args, "--project");
    String domain = arg(args, "--domain");
    ManagedChannel channel = ManagedChannelBuilder.forTarget(arg(args, "--admin")).usePlaintext().build();
    try {
      AdminServiceGrpc.AdminServiceBlockingStub admin =
          AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(3, TimeUnit.MINUTES);

      List<String> projects = new ArrayList<>();
      for (Project p : admin.listProjects(ProjectListRequest.getDefaultInstance()).getProjectsList()) {
        projects.add(quote(p.getId()));
      }

      LiteralMap inputs =
          LiteralMap.newBuilder()
              .putLiterals("n", integer(3))
              .putLiterals("word", primitive(Primitive.newBuilder().setStringValue("ab").build()))
              .putLiterals("scale", primitive(Primitive.newBuilder().setFloatValue(1.5).build()))
              .putLiterals(
                  "xs",
                  Literal.newBuilder()
                      .setCollection(LiteralCollection.newBuilder().addLiterals(integer(4)).addLiterals(integer(5)))
                      .build())
              .build();
      ExecutionCreateResponse created =
          admin.createExecution(
              ExecutionCreateRequest.newBuilder()
                  .setProject(project)
                  .setDomain(domain)
                  .setName(arg(args, "--execution"))
                  .setSpec(
                      ExecutionSpec.newBuilder()
                          .setLaunchPlan(
                              Identifier.newBuilder()
                                  .setResourceType(ResourceType.LAUNCH_PLAN)
                                  .setProject(project)
                                  .setDomain(domain)
                                  .setName(arg(args, "--launch-plan"))
                                  .setVersion(arg(args, "--version")))
                          .setMetadata(
                              ExecutionMetadata.newBuilder()
                                  .setMode(ExecutionMetadata.ExecutionMode.MANUAL)
                                  .setPrincipal("java-client")))
                  .setInputs(inputs)
                  .build());
      WorkflowExecutionIdentifier id = created.getId();

      EnumSet<WorkflowExecution.Phase> terminal =
          EnumSet.of(
              WorkflowExecution.Phase.SUCCEEDED,
              WorkflowExecution.Phase.FAILED,
              WorkflowExecution.Phase.ABORTED,
              WorkflowExecution.Phase.TIMED_OUT);
      WorkflowExecution.Phase phase;
      while (true) {
        phase =
            admin.getExecution(WorkflowExecutionGetRequest.newBuilder().setId(id).build()).getClosure().getPhase();
        if (terminal.contains(phase)) {
          break;
        }
        Thread.sleep(200);
      }

      Map<String, Literal> outputs =
          admin
              .getExecutionData(WorkflowExecutionGetDataRequest.newBuilder().setId(id).build())
              .getFullOutputs()
              .getLiteralsMap();
      Primitive o0 = outputs.get("o0").getScalar().getPrimitive();
      Primitive o1 = outputs.get("o1").getScalar().getPrimitive();
      Primitive o2 = outputs.get("o2").getScalar().getPrimitive();
      System.out.println(
          "{\"projects\": [" + String.join(", ", projects) + "], \"execution\": " + quote(id.getName())
              + ", \"phase\": " + quote(phase.name()) + ", \"outputs\": {\"o0\": " + o0.getInteger()
              + ", \"o1\": " + quote(o1.getStringValue()) + ", \"o2\": " + o2.getFloatValue() + "}}");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
