// What the simulated cloud sells. On-demand figures are us-east-1 Linux list prices
// (dollars per instance-hour) of the kind published by AWS; other regions and operating
// systems are derived from them. They are simulation inputs, not a price source for AWS.

import { normaliseProductDescription } from '../domain/types.js';

export const SIM_REGIONS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e', 'us-east-1f'],
  'us-west-2': ['us-west-2a', 'us-west-2b', 'us-west-2c', 'us-west-2d'],
  'eu-central-1': ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
};

interface TypeSpec {
  readonly vcpus: number;
  readonly linuxPrice: number;
}

const TYPES: Readonly<Record<string, TypeSpec>> = {
  't3.medium': { vcpus: 2, linuxPrice: 0.0416 },
  'c5.large': { vcpus: 2, linuxPrice: 0.085 },
  'c5.xlarge': { vcpus: 4, linuxPrice: 0.17 },
  'c5.2xlarge': { vcpus: 8, linuxPrice: 0.34 },
  'c5.4xlarge': { vcpus: 16, linuxPrice: 0.68 },
  'c5a.xlarge': { vcpus: 4, linuxPrice: 0.154 },
  'c5a.2xlarge': { vcpus: 8, linuxPrice: 0.308 },
  'c6i.xlarge': { vcpus: 4, linuxPrice: 0.17 },
  'c6i.2xlarge': { vcpus: 8, linuxPrice: 0.34 },
  'm5.large': { vcpus: 2, linuxPrice: 0.096 },
  'm5.xlarge': { vcpus: 4, linuxPrice: 0.192 },
  'm5.2xlarge': { vcpus: 8, linuxPrice: 0.384 },
  'm5a.xlarge': { vcpus: 4, linuxPrice: 0.172 },
  'm6i.xlarge': { vcpus: 4, linuxPrice: 0.192 },
  'm6i.2xlarge': { vcpus: 8, linuxPrice: 0.384 },
  'r5.large': { vcpus: 2, linuxPrice: 0.126 },
  'r5.xlarge': { vcpus: 4, linuxPrice: 0.252 },
  // Older generations, so that recorded price history from 2016 can be replayed: us-east-1 Linux
  // on-demand list prices of early 2016 (where the recordings show EC2's bid cap of 10× on-demand,
  // as for m2.xlarge, m3.medium, m4.10xlarge, r3.large, g2.8xlarge, they agree). Simulation inputs
  // like the rest of this table.
  't1.micro': { vcpus: 1, linuxPrice: 0.02 },
  'm1.small': { vcpus: 1, linuxPrice: 0.044 },
  'm1.large': { vcpus: 2, linuxPrice: 0.175 },
  'm1.xlarge': { vcpus: 4, linuxPrice: 0.35 },
  'm2.xlarge': { vcpus: 2, linuxPrice: 0.245 },
  'm3.medium': { vcpus: 1, linuxPrice: 0.07 },
  'm3.large': { vcpus: 2, linuxPrice: 0.14 },
  'm4.4xlarge': { vcpus: 16, linuxPrice: 1.008 },
  'm4.10xlarge': { vcpus: 40, linuxPrice: 2.52 },
  'c1.medium': { vcpus: 2, linuxPrice: 0.13 },
  'c1.xlarge': { vcpus: 8, linuxPrice: 0.52 },
  'cg1.4xlarge': { vcpus: 16, linuxPrice: 2.1 },
  'cr1.8xlarge': { vcpus: 32, linuxPrice: 3.5 },
  'd2.xlarge': { vcpus: 4, linuxPrice: 0.69 },
  'd2.2xlarge': { vcpus: 8, linuxPrice: 1.38 },
  'd2.4xlarge': { vcpus: 16, linuxPrice: 2.76 },
  'd2.8xlarge': { vcpus: 36, linuxPrice: 5.52 },
  'g2.8xlarge': { vcpus: 32, linuxPrice: 2.6 },
  'hi1.4xlarge': { vcpus: 16, linuxPrice: 3.1 },
  'r3.large': { vcpus: 2, linuxPrice: 0.175 },
};

const REGION_FACTOR: Readonly<Record<string, number>> = { 'us-east-1': 1, 'us-west-2': 1, 'eu-central-1': 1.16 };

/** Licence uplift per vCPU-hour, or per instance-hour for flat ones. */
const OS_UPLIFT: Readonly<Record<string, { perVcpu?: number; flat?: number }>> = {
  'Linux/UNIX': {},
  Windows: { perVcpu: 0.046 },
  'Red Hat Enterprise Linux': { flat: 0.06 },
  'SUSE Linux': { flat: 0.1 },
};

export function isSimInstanceType(type: string): boolean {
  return type in TYPES;
}

export function simVcpus(type: string): number | undefined {
  return TYPES[type]?.vcpus;
}

export function simInstanceTypes(): string[] {
  return Object.keys(TYPES);
}

/** The simulated on-demand price, or undefined for an unknown type, region or OS. */
export function simOnDemandPrice(region: string, instanceType: string, productDescription: string): number | undefined {
  const spec = TYPES[instanceType];
  const factor = REGION_FACTOR[region];
  const uplift = OS_UPLIFT[normaliseProductDescription(productDescription)];
  if (!spec || factor === undefined || !uplift) return undefined;
  const price = spec.linuxPrice * factor + (uplift.perVcpu ?? 0) * spec.vcpus + (uplift.flat ?? 0);
  return Math.round(price * 10_000) / 10_000;
}
