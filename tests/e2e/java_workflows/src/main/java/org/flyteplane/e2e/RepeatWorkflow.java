package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import org.flyte.flytekit.SdkWorkflow;
import org.flyte.flytekit.SdkWorkflowBuilder;
import org.flyte.flytekit.jackson.JacksonSdkType;

/** Runs RepeatTask: the number of nodes is decided while the workflow runs. */
@AutoService(SdkWorkflow.class)
public class RepeatWorkflow extends SdkWorkflow<RepeatTask.Input, RepeatTask.Output> {
  public RepeatWorkflow() {
    super(JacksonSdkType.of(RepeatTask.Input.class), JacksonSdkType.of(RepeatTask.Output.class));
  }

  @Override
  public RepeatTask.Output expand(SdkWorkflowBuilder builder, RepeatTask.Input input) {
    return builder.apply("repeat", new RepeatTask(), input).getOutputs();
  }
}
