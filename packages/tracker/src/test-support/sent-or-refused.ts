import { BudgetExceededError } from '../budget/budget-exceeded-error';

/** How a budgeted call came out: sent, or refused by a budget before it was sent; any other failure fails the test. */
export function sentOrRefused(call: Promise<unknown>): Promise<'sent' | 'refused'> {
  return call.then(
    () => 'sent',
    (error: unknown) => {
      if (BudgetExceededError.isInstance(error)) return 'refused';
      throw error;
    },
  );
}
