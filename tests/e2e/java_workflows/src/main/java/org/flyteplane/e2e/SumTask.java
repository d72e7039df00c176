package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import com.google.auto.value.AutoValue;
import org.flyte.flytekit.SdkBindingData;
import org.flyte.flytekit.SdkBindingDataFactory;
import org.flyte.flytekit.SdkRunnableTask;
import org.flyte.flytekit.jackson.JacksonSdkType;

/** Adds two integers. */
@AutoService(SdkRunnableTask.class)
public class SumTask extends SdkRunnableTask<SumTask.Input, SumTask.Output> {
  public SumTask() {
    super(JacksonSdkType.of(Input.class), JacksonSdkType.of(Output.class));
  }

  @AutoValue
  public abstract static class Input {
    public abstract SdkBindingData<Long> a();

    public abstract SdkBindingData<Long> b();

    public static Input create(SdkBindingData<Long> a, SdkBindingData<Long> b) {
      return new AutoValue_SumTask_Input(a, b);
    }
  }

  @AutoValue
  public abstract static class Output {
    public abstract SdkBindingData<Long> c();

    public static Output create(SdkBindingData<Long> c) {
      return new AutoValue_SumTask_Output(c);
    }
  }

  @Override
  public Output run(Input input) {
    return Output.create(SdkBindingDataFactory.of(input.a().get() + input.b().get()));
  }
}
