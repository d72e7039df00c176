package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import com.google.auto.value.AutoValue;
import org.flyte.flytekit.SdkBindingData;
import org.flyte.flytekit.SdkBindingDataFactory;
import org.flyte.flytekit.SdkDynamicWorkflowTask;
import org.flyte.flytekit.SdkWorkflowBuilder;
import org.flyte.flytekit.jackson.JacksonSdkType;

/** A dynamic workflow (`jflyte execute-dynamic-workflow`): adds `step` to `start`, `times` times, one task each. */
@AutoService(SdkDynamicWorkflowTask.class)
public class RepeatTask extends SdkDynamicWorkflowTask<RepeatTask.Input, RepeatTask.Output> {
  public RepeatTask() {
    super(JacksonSdkType.of(Input.class), JacksonSdkType.of(Output.class));
  }

  @AutoValue
  public abstract static class Input {
    public abstract SdkBindingData<Long> start();

    public abstract SdkBindingData<Long> step();

    public abstract SdkBindingData<Long> times();

    public static Input create(
        SdkBindingData<Long> start, SdkBindingData<Long> step, SdkBindingData<Long> times) {
      return new AutoValue_RepeatTask_Input(start, step, times);
    }
  }

  @AutoValue
  public abstract static class Output {
    public abstract SdkBindingData<Long> total();

    public static Output create(SdkBindingData<Long> total) {
      return new AutoValue_RepeatTask_Output(total);
    }
  }

  @Override
  public Output run(SdkWorkflowBuilder builder, Input input) {
    SdkBindingData<Long> total = input.start();
    for (long i = 0; i < input.times().get(); i++) {
      total =
          builder
              .apply("add-" + i, new SumTask(), SumTask.Input.create(total, input.step()))
              .getOutputs()
              .c();
    }
    return Output.create(total);
  }
}
