// The order page's state: ONE object, made here and shared by the page's parts (order.js composes
// them). The parts read and write it; they reach each other through the `view` order.js fills in.

export const ms = (iso) => (iso ? Date.parse(iso) : NaN);

export function createState(orderId) {
  return {
    orderId,
    alive: true, // false once the page is left: late answers change nothing
    order: null, // the order, once loaded
    gens: [], // its generations, newest first
    selectedId: null, // the generation the card and the log show
    watcher: null, // the poll of the selected generation (order_watch.js)
    busy: false, // an action is under way: the buttons wait
    outcomeKey: null, // what the outcome shows, so that a poll does not build it again
    versions: null, // the site's versions, once loaded
    lastAnnounced: null, // the finished generation last told to screen readers
  };
}

// The API path of the order (and of what is below it).
export const orderPath = (state, rest = '') => `/orders/${encodeURIComponent(state.orderId)}${rest}`;

// Puts a generation read from the API in the list, newest first.
export function upsert(state, gen) {
  const i = state.gens.findIndex((g) => g.id === gen.id);
  if (i >= 0) state.gens[i] = gen;
  else state.gens = [gen, ...state.gens].sort((a, b) => ms(b.created_at) - ms(a.created_at));
}
