package org.flyteplane.e2e;

import com.google.auto.service.AutoService;
import org.flyte.flytekit.SdkLaunchPlan;
import org.flyte.flytekit.SdkLaunchPlanRegistry;
import org.flyte.flytekit.SimpleSdkLaunchPlanRegistry;

/** The default launch plan of every workflow, and one with default inputs. */
@AutoService(SdkLaunchPlanRegistry.class)
public class LaunchPlans extends SimpleSdkLaunchPlanRegistry {
  public LaunchPlans() {
    registerDefaultLaunchPlans();
    registerLaunchPlan(
        SdkLaunchPlan.of(new GreetingWorkflow())
            .withName("GreetTwice")
            .withDefaultInput("name", "world")
            .withDefaultInput("left", 1L)
            .withDefaultInput("right", 1L));
  }
}
