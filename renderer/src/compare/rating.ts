// Blind A/B: which reply sits on the left, and how a seven-point rating becomes a preference
// record (chosen / rejected + Llama 2's strength scale). Pure functions.
export type Side = 'base' | 'tuned';
export type Strength = 'significantly' | 'better' | 'slightly' | 'negligibly';

/** Left then right. Blind: a coin flip, so position says nothing; otherwise base on the left. */
export function arrange(blind: boolean, random: () => number = Math.random): [Side, Side] {
  return blind && random() < 0.5 ? ['tuned', 'base'] : ['base', 'tuned'];
}

export interface RatingChoice {
  id: string;
  label: string;
  /** Which position wins: 0 = A (left), 1 = B (right). */
  winner: 0 | 1;
  strength: Strength;
}

/** A much better ... about the same ... B much better. "About the same" is stored as A, negligibly. */
export const RATINGS: RatingChoice[] = [
  { id: 'a-much', label: 'A much better', winner: 0, strength: 'significantly' },
  { id: 'a-better', label: 'A better', winner: 0, strength: 'better' },
  { id: 'a-slightly', label: 'A slightly better', winner: 0, strength: 'slightly' },
  { id: 'same', label: 'About the same', winner: 0, strength: 'negligibly' },
  { id: 'b-slightly', label: 'B slightly better', winner: 1, strength: 'slightly' },
  { id: 'b-better', label: 'B better', winner: 1, strength: 'better' },
  { id: 'b-much', label: 'B much better', winner: 1, strength: 'significantly' },
];

/** The preference record a rating makes, given the order the replies were shown in. */
export function preferenceOf(order: [Side, Side], replies: Record<Side, string>, rating: RatingChoice) {
  const chosenSide = order[rating.winner];
  const rejectedSide = order[1 - rating.winner];
  return { chosenSide, chosen: replies[chosenSide], rejected: replies[rejectedSide], strength: rating.strength };
}
