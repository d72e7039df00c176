package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import com.google.auto.value.AutoValue;
import org.flyte.flytekit.SdkBindingData;
import org.flyte.flytekit.SdkWorkflow;
import org.flyte.flytekit.SdkWorkflowBuilder;
import org.flyte.flytekit.jackson.JacksonSdkType;

/** Sums two numbers, then greets `name` that many times: the second task reads the first's output. */
@AutoService(SdkWorkflow.class)
public class GreetingWorkflow extends SdkWorkflow<GreetingWorkflow.Input, GreetingWorkflow.Output> {
  public GreetingWorkflow() {
    super(JacksonSdkType.of(Input.class), JacksonSdkType.of(Output.class));
  }

  @Override
  public Output expand(SdkWorkflowBuilder builder, Input input) {
    SumTask.Output sum =
        builder.apply("sum", new SumTask(), SumTask.Input.create(input.left(), input.right())).getOutputs();
    GreetTask.Output greet =
        builder.apply("greet", new GreetTask(), GreetTask.Input.create(input.name(), sum.c())).getOutputs();
    return Output.create(greet.greeting(), sum.c(), greet.loud());
  }

  @AutoValue
  public abstract static class Input {
    public abstract SdkBindingData<String> name();

    public abstract SdkBindingData<Long> left();

    public abstract SdkBindingData<Long> right();

    public static Input create(
        SdkBindingData<String> name, SdkBindingData<Long> left, SdkBindingData<Long> right) {
      return new AutoValue_GreetingWorkflow_Input(name, left, right);
    }
  }

  @AutoValue
  public abstract static class Output {
    public abstract SdkBindingData<String> greeting();

    public abstract SdkBindingData<Long> total();

    public abstract SdkBindingData<Boolean> loud();

    public static Output create(
        SdkBindingData<String> greeting, SdkBindingData<Long> total, SdkBindingData<Boolean> loud) {
      return new AutoValue_GreetingWorkflow_Output(greeting, total, loud);
    }
  }
}
