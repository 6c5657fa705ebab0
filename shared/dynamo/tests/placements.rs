//! `Idempotency-Key`s and rate limits on DynamoDB Local: each claimed once
//! per tenant however many claim it at once, and each second's actions
//! counted exactly across concurrent takers.

use aws_sdk_dynamodb::types::AttributeValue;
use calltrack_core::ports::{Claim, KeepIdempotencyKeys, KeptAnswer, LimitRate};
use calltrack_core::view::TenantId;
use calltrack_dynamo::testing::{sibling, store};
use calltrack_twilio::fields::Field;
use std::time::SystemTime;

fn tenant(id: &str) -> TenantId {
    TenantId::parse("tenant", id).unwrap()
}

fn now() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
}

const CALL: &str = r#"{"to":"+15005550006"}"#;

#[tokio::test]
async fn a_key_is_claimed_once_answered_once_and_never_shared_between_tenants() {
    let store = store().await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let until = now() + 86_400;
    assert_eq!(store.claim_key(&acme, "k1", CALL, until).await.unwrap(), Claim::First);
    let repeat = store.claim_key(&acme, "k1", r#"{"to":"other"}"#, until).await.unwrap();
    let Claim::InFlight { request, claimed_at } = repeat else { panic!("{repeat:?}") };
    assert_eq!(request, CALL, "the first request's body, to tell a repeat from a reuse");
    assert!((now() - 5..=now()).contains(&claimed_at), "when it was claimed: {claimed_at}");

    let answer = KeptAnswer { status: 201, body: r#"{"callSid":"CA1"}"#.into() };
    store.keep_answer(&acme, "k1", &answer).await.unwrap();
    let repeat = store.claim_key(&acme, "k1", CALL, until).await.unwrap();
    assert_eq!(repeat, Claim::Answered { request: CALL.into(), answer: answer.clone() });
    assert_eq!(
        sibling(&store).claim_key(&acme, "k1", CALL, until).await.unwrap(),
        Claim::Answered { request: CALL.into(), answer },
        "another instance sees it too"
    );

    assert_eq!(store.claim_key(&globex, "k1", CALL, until).await.unwrap(), Claim::First, "tenants never share keys");
    let (long, longer) = ("k".repeat(255), format!("{}x", "k".repeat(254)));
    assert_eq!(store.claim_key(&acme, &long, CALL, until).await.unwrap(), Claim::First);
    assert_eq!(store.claim_key(&acme, &longer, CALL, until).await.unwrap(), Claim::First, "a long key is never cut");
}

#[tokio::test]
async fn a_released_or_expired_key_is_claimed_afresh() {
    let store = store().await;
    let acme = tenant("acme");
    let until = now() + 86_400;
    assert_eq!(store.claim_key(&acme, "refused", CALL, until).await.unwrap(), Claim::First);
    store.release_key(&acme, "refused").await.unwrap();
    assert_eq!(store.claim_key(&acme, "refused", CALL, until).await.unwrap(), Claim::First);
    store.release_key(&acme, "never-claimed").await.unwrap();

    // Past its expiry but not yet swept by TTL: as good as gone.
    assert_eq!(store.claim_key(&acme, "old", "before", now() - 10).await.unwrap(), Claim::First);
    store.keep_answer(&acme, "old", &KeptAnswer { status: 201, body: "{}".into() }).await.unwrap();
    assert_eq!(store.claim_key(&acme, "old", CALL, until).await.unwrap(), Claim::First);
    let repeat = store.claim_key(&acme, "old", "later", until).await.unwrap();
    assert!(matches!(&repeat, Claim::InFlight { request, .. } if request == CALL), "the expired claim's answer went with it: {repeat:?}");
}

#[tokio::test]
async fn the_items_carry_their_expiry_for_ttl() {
    let store = store().await;
    let acme = tenant("acme");
    store.claim_key(&acme, "k1", "", 4_000_000_000).await.unwrap();
    assert!(store.take(&acme, 4_000_000_000, 1).await.unwrap());
    let expiry = |pk: &str, sk: &str| {
        let get = store
            .client()
            .get_item()
            .table_name(&store.tables().index)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .send();
        async move { get.await.unwrap().item.expect("stored")["expiresAt"].as_n().unwrap().clone() }
    };
    assert_eq!(expiry("K#acme#k1", "key").await, "4000000000");
    assert_eq!(expiry("R#acme#4000000000", "rate").await, "4000000060");
}

#[tokio::test]
async fn answering_a_key_that_is_gone_keeps_nothing() {
    let store = store().await;
    let acme = tenant("acme");
    store.keep_answer(&acme, "gone", &KeptAnswer { status: 200, body: "{}".into() }).await.unwrap();
    assert_eq!(store.claim_key(&acme, "gone", CALL, now() + 60).await.unwrap(), Claim::First, "no answer without a claim");
}

#[tokio::test]
async fn a_key_too_long_for_dynamodb_fails_without_panicking() {
    let store = store().await;
    let acme = tenant("acme");
    let long = "k".repeat(5000);
    assert!(store.claim_key(&acme, &long, CALL, now() + 60).await.is_err());
    assert!(store.keep_answer(&acme, &long, &KeptAnswer { status: 200, body: "{}".into() }).await.is_err());
    assert!(store.release_key(&acme, &long).await.is_err());
    let longest = "é".repeat(255);
    assert_eq!(store.claim_key(&acme, &longest, CALL, now() + 60).await.unwrap(), Claim::First);
}

#[tokio::test]
async fn of_concurrent_claims_of_one_key_exactly_one_is_first() {
    let store = store().await;
    let until = now() + 86_400;
    let claims = (0..20).map(|i| {
        let store = sibling(&store);
        tokio::spawn(async move { store.claim_key(&tenant("acme"), "double-click", &format!("request {i}"), until).await.unwrap() })
    });
    let claims: Vec<Claim> = futures_util::future::join_all(claims).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(claims.iter().filter(|c| **c == Claim::First).count(), 1, "{claims:?}");
    assert!(claims.iter().all(|c| matches!(c, Claim::First | Claim::InFlight { .. })));
    let requests: std::collections::BTreeSet<_> =
        claims.iter().filter_map(|c| if let Claim::InFlight { request, .. } = c { Some(request.clone()) } else { None }).collect();
    assert_eq!(requests.len(), 1, "every repeat sees the one first request: {requests:?}");
}

#[tokio::test]
async fn a_second_takes_up_to_its_limit_per_tenant() {
    let store = store().await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let second = now();
    assert!(store.take(&acme, second, 2).await.unwrap());
    assert!(store.take(&acme, second, 2).await.unwrap());
    assert!(!store.take(&acme, second, 2).await.unwrap(), "the third of a limit of 2");
    assert!(!store.take(&acme, second, 2).await.unwrap(), "and still: a refusal counts nothing");
    assert!(store.take(&acme, second, 3).await.unwrap(), "a refusal counted nothing: a third under a limit of 3");
    assert!(store.take(&acme, second + 1, 2).await.unwrap(), "the next second starts over");
    assert!(store.take(&globex, second, 2).await.unwrap(), "another tenant has its own count");
    assert!(!store.take(&globex, second + 2, 0).await.unwrap(), "a limit of 0 takes nothing");
}

#[tokio::test]
async fn of_concurrent_takes_exactly_the_limit_succeed() {
    let store = store().await;
    let second = now();
    let takes = (0..20).map(|_| {
        let store = sibling(&store);
        tokio::spawn(async move { store.take(&tenant("acme"), second, 3).await.unwrap() })
    });
    let taken = futures_util::future::join_all(takes).await.into_iter().map(Result::unwrap).filter(|t| *t).count();
    assert_eq!(taken, 3);
}
