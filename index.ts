// The runner-fleet program: `pulumi up` per environment builds the fleet its
// stack config (Pulumi.<stack>.yaml) describes.
import { fleetProgram } from "./components/fleet/program";

export = fleetProgram();
