/**
 * The English word list the test tokenizers are built from: function words first, then common content
 * words, then words that come up in the data aiduck users classify and search (reviews, tickets,
 * documents). Order matters: earlier words are treated as more frequent.
 */
const WORDS_TEXT = `
the of and to a in is it you that he was for on are with as i his they be at one have this from or
had by not but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two
has look more day could go come did number sound no most people my over know water than call first who
may down side been now find any new work part take get place made live where after back little only
round man year came show every good me give our under name very through just form sentence great think
say help low line differ turn cause much mean before move right boy old too same tell does set three
want air well also play small end put home read hand port large spell add even land here must big high
such follow act why ask men change went light kind off need house picture try us again animal point
mother world near build self earth father head stand own page should country found answer school grow
study still learn plant cover food sun four between state keep eye never last let thought city tree
cross farm hard start might story saw far sea draw left late run don't while press close night real
life few north open seem together next white children begin got walk example ease paper group always
music those both mark often letter until mile river car feet care second book carry took science eat
room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main
enough plain girl usual young ready above ever red list though feel talk bird soon body dog family
direct pose leave song measure door product black short numeral class wind question happen complete
ship area half rock order fire south problem piece told knew pass since top whole king space heard best
hour better true during hundred five remember step early hold west ground interest reach fast verb sing
listen six table travel less morning ten simple several vowel toward war lay against pattern slow
center love person money serve appear road map rain rule govern pull cold notice voice unit power town
fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able
pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm
free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay
wheel full force blue object decide surface deep moon island foot system busy test record boat common
gold possible plane stead dry wonder laugh thousand ago ran check game shape equate hot miss brought heat
snow tire bring yes distant fill east paint language among
hello world today yesterday tomorrow please thanks thank sorry yes okay
customer service support ticket order price cost cheap expensive quality review rating star stars
product item fast slow email phone page button screen update install version release feature request
report working help data query table column row model models sql file files text document documents search
question answer summary summarize translate classify label labels score train training test
neutral entailment contradiction
`;


/**
 * Topic groups. The NLI test model treats two different words of one group as a partial match, so
 * zero-shot classification with a topic name as label ("sports") picks up texts that use the group's
 * other words ("the team won the match").
 */
export const TOPICS: Readonly<Record<string, readonly string[]>> = {
  sports: ['sports', 'sport', 'football', 'soccer', 'basketball', 'tennis', 'team', 'match', 'player', 'players', 'win', 'won', 'goal', 'game', 'score'],
  politics: ['politics', 'political', 'government', 'election', 'vote', 'president', 'law', 'policy', 'minister', 'party', 'state', 'govern'],
  weather: ['weather', 'sunny', 'cloudy', 'rainy', 'rain', 'storm', 'wind', 'snow', 'temperature', 'forecast', 'cold', 'warm', 'hot'],
  cooking: ['cooking', 'cook', 'recipe', 'kitchen', 'food', 'bread', 'cheese', 'pizza', 'pasta', 'coffee', 'tea', 'dinner', 'lunch', 'breakfast', 'restaurant', 'eat'],
  entertainment: ['entertainment', 'movie', 'film', 'actor', 'actress', 'show', 'series', 'music', 'song', 'band', 'concert', 'sing', 'play'],
  technology: ['technology', 'computer', 'software', 'hardware', 'internet', 'network', 'cloud', 'server', 'code', 'program', 'programming', 'app', 'website', 'database', 'data', 'machine'],
  science: ['science', 'research', 'physics', 'chemistry', 'biology', 'space', 'planet', 'earth', 'moon', 'star', 'study'],
  business: ['business', 'company', 'market', 'stock', 'money', 'bank', 'finance', 'sales', 'revenue', 'profit', 'price', 'cost'],
  health: ['health', 'doctor', 'hospital', 'medicine', 'patient', 'disease', 'sick', 'body'],
  travel: ['travel', 'trip', 'flight', 'hotel', 'airport', 'beach', 'vacation', 'city', 'country', 'road'],
  animals: ['animals', 'animal', 'cat', 'cats', 'dog', 'dogs', 'bird', 'birds', 'fish', 'pet', 'pets', 'horse'],
  shipping: ['shipping', 'delivery', 'package', 'arrived', 'late', 'order', 'refund', 'return', 'damaged', 'broken'],
  bug: ['bug', 'error', 'crash', 'issue', 'problem', 'fix', 'fixed', 'broke', 'login', 'password', 'account'],
  positive: ['positive', 'good', 'great', 'excellent', 'amazing', 'happy', 'love', 'nice', 'recommend', 'satisfied', 'best'],
  negative: ['negative', 'bad', 'terrible', 'awful', 'sad', 'angry', 'hate', 'poor', 'disappointed', 'worst'],
};

/** Distinct words in order of first appearance, lower case, letters and apostrophes only. */
export const WORDS: readonly string[] = (() => {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const w of [...WORDS_TEXT.split(/\s+/), ...Object.values(TOPICS).flat()]) {
    if (w === '' || !/^[a-z']+$/.test(w) || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
})();

/** Word-piece endings that make most inflected forms tokenize into a stem and a suffix. */
export const SUFFIXES: readonly string[] = [
  's', 'es', 'ed', 'd', 'ing', 'ly', 'er', 'ers', 'est', 'ion', 'ions', 'tion', 'ment', 'ments', 'ness',
  'able', 'ful', 'less', 'ity', 'al', 'ic', 'ive', 'ize', 'ous', 'y', 'en', 'ings', 'ist', 'ism', 'ure',
  'ant', 'ent', 'ance', 'ence', 'age', 'ship', 'hood', 'ward', 'th', 'ies', 'ied',
];

/**
 * Words that carry little meaning. The NLI test model ignores them when it measures how much of a
 * hypothesis the premise covers (see nli.ts).
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  `the of and to a in is it you that he was for on are with as i his they be at one have this from or had
  by not but what some we can out other were all there when up use your how said an each she which do their
  time if will way about many then them would so these her him has more could who may been now any my me
  our us very just also too does did its it's than there here such only example`.split(/\s+/).filter((w) => w !== ''),
);

/** Sentences mixed into the corpus the byte-level BPE merges are learned from. */
export const SENTENCES: readonly string[] = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello, world! This is a small language model.',
  'The customer said the product arrived late and the package was damaged.',
  'Please summarize the following document in one sentence.',
  'The team won the match and the players were happy.',
  'I love this movie, the music is great.',
  'The database answered the query in a few seconds.',
  'Once upon a time there was a little cat that lived in a big house.',
  'What is the weather like today? It is sunny and warm.',
  'We need to fix the login bug before the next release.',
];
