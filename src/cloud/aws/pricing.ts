import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { normaliseProductDescription } from '../../domain/types.js';
import type { PriceList } from '../port.js';

// The Pricing API names operating systems differently from spot price history.
const OPERATING_SYSTEM: Record<string, string> = {
  'Linux/UNIX': 'Linux',
  'SUSE Linux': 'SUSE',
  'Red Hat Enterprise Linux': 'RHEL',
  Windows: 'Windows',
};

/** On-demand list prices from the AWS Price List API (shared tenancy, no pre-installed software). */
export class AwsPriceList implements PriceList {
  constructor(private readonly pricing: PricingClient) {}

  async onDemandPrices(region: string, instanceTypes: readonly string[], productDescription: string): Promise<Record<string, number>> {
    const os = OPERATING_SYSTEM[normaliseProductDescription(productDescription)] ?? 'Linux';
    const prices: Record<string, number> = {};
    for (const instanceType of instanceTypes) {
      const out = await this.pricing.send(
        new GetProductsCommand({
          ServiceCode: 'AmazonEC2',
          Filters: [
            { Type: 'TERM_MATCH', Field: 'regionCode', Value: region },
            { Type: 'TERM_MATCH', Field: 'instanceType', Value: instanceType },
            { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: os },
            { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
            { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
            { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
          ],
          MaxResults: 10,
        }),
      );
      const documents: readonly unknown[] = (out.PriceList as unknown[] | undefined) ?? [];
      const price = documents
        .map((item) => onDemandPrice(typeof item === 'string' ? item : JSON.stringify(item)))
        .find((p) => p !== undefined);
      if (price !== undefined) prices[instanceType] = price;
    }
    return prices;
  }
}

/** The hourly USD price in one Price List product document, if it has exactly that. */
export function onDemandPrice(productJson: string): number | undefined {
  try {
    const doc = JSON.parse(productJson) as {
      terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }> };
    };
    for (const term of Object.values(doc.terms?.OnDemand ?? {})) {
      for (const dim of Object.values(term.priceDimensions ?? {})) {
        const usd = Number(dim.pricePerUnit?.USD);
        if (dim.unit === 'Hrs' && Number.isFinite(usd) && usd > 0) return usd;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
