/**
 * axe-core's check of a page, as the layout specs run it: the serious and critical problems only.
 * A page is checked whole in the light theme; in the dark one only by the rules that read colours, as the
 * others (names, roles, structure) cannot change with the theme. In the layout spec's 17 screens that took
 * axe from 68 s to 50 s (a whole run about 1.8 s, the colour rules alone 1.2).
 * Legacy mode runs axe in the page itself: the default runs it per frame, then opens a new page to merge the
 * frames' results, a renderer started at every check (a whole run 2.9 s against 1.0–1.4; the colour rules
 * 1.25 against 0.7–0.85). The window has no frames, which is all legacy mode leaves out.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';

const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];

export async function seriousViolations(page: Page, colorScheme: 'light' | 'dark'): Promise<string[]> {
  const builder = new AxeBuilder({ page }).setLegacyMode(true).options({ resultTypes: ['violations'] });
  const results = await (colorScheme === 'dark' ? builder.withRules(COLOUR_RULES) : builder).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}
