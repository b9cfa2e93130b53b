//! Every message a node parses from another: descriptors, feed pages, match queries and
//! answers, introductions, their answers and progress signals. Parsing never panics; whatever
//! parses as a shareable value passed the de-identification gate.
#![no_main]

use alongside_core::deid::Shareable;
use alongside_core::feed::FeedPage;
use alongside_core::requests::outside::{
    IntroductionMessage, IntroductionProgress, IntroductionResponse, OutsideCandidate,
    OutsideQuery,
};
use alongside_core::resources::Resource;
use alongside_core::training::TrainerListing;
use alongside_federation::descriptor::NodeDescriptor;
use alongside_federation::matching::MatchAnswer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<NodeDescriptor>(data).map(|d| d.key("k", 0));
    let _ = serde_json::from_slice::<FeedPage>(data);
    let _ = serde_json::from_slice::<IntroductionMessage>(data);
    let _ = serde_json::from_slice::<IntroductionResponse>(data);
    let _ = serde_json::from_slice::<IntroductionProgress>(data);
    if let Ok(q) = serde_json::from_slice::<Shareable<OutsideQuery>>(data) {
        assert!(Shareable::new(q.into_inner()).is_ok());
    }
    if let Ok(a) = serde_json::from_slice::<MatchAnswer>(data) {
        for c in a.candidates {
            assert!(Shareable::<OutsideCandidate>::new(c.into_inner()).is_ok());
        }
    }
    if let Ok(r) = serde_json::from_slice::<Shareable<Resource>>(data) {
        assert!(Shareable::new(r.into_inner()).is_ok());
    }
    let _ = serde_json::from_slice::<Shareable<TrainerListing>>(data);
});
