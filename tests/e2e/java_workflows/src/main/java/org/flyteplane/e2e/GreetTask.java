package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import com.google.auto.value.AutoValue;
import org.flyte.flytekit.SdkBindingData;
import org.flyte.flytekit.SdkBindingDataFactory;
import org.flyte.flytekit.SdkRunnableTask;
import org.flyte.flytekit.jackson.JacksonSdkType;

/** Greets someone a number of times; fails on an empty name, as a user's task fails. */
@AutoService(SdkRunnableTask.class)
public class GreetTask extends SdkRunnableTask<GreetTask.Input, GreetTask.Output> {
  public GreetTask() {
    super(JacksonSdkType.of(Input.class), JacksonSdkType.of(Output.class));
  }

  @AutoValue
  public abstract static class Input {
    public abstract SdkBindingData<String> name();

    public abstract SdkBindingData<Long> times();

    public static Input create(SdkBindingData<String> name, SdkBindingData<Long> times) {
      return new AutoValue_GreetTask_Input(name, times);
    }
  }

  @AutoValue
  public abstract static class Output {
    public abstract SdkBindingData<String> greeting();

    public abstract SdkBindingData<Boolean> loud();

    public static Output create(SdkBindingData<String> greeting, SdkBindingData<Boolean> loud) {
      return new AutoValue_GreetTask_Output(greeting, loud);
    }
  }

  @Override
  public Output run(Input input) {
    String name = input.name().get();
    if (name.isEmpty()) {
      throw new IllegalArgumentException("nobody to greet");
    }
    long times = input.times().get();
    String greeting = ("Hello " + name + "! ").repeat((int) times).trim();
    return Output.create(SdkBindingDataFactory.of(greeting), SdkBindingDataFactory.of(times > 2));
  }
}
